# SPDX-License-Identifier: BSD-2-Clause
# CLI test of jpip-info (tests/e2e/jpip_info_test.sh): exit codes, text and JSON reports of
# two files encoded with opj_compress, and a run over the ISO conformance files when present.
# Included from tests/e2e/CMakeLists.txt; skipped (exit 77) when opj_compress is missing.
if(TARGET jpip-info)
  find_program(JPIP_INFO_BASH bash)
  if(JPIP_INFO_BASH)
    add_test(NAME cli.jpip_info
      COMMAND ${JPIP_INFO_BASH} ${CMAKE_CURRENT_LIST_DIR}/jpip_info_test.sh
              $<TARGET_FILE:jpip-info> ${JPIP_CONFORMANCE_DIR})
    set_tests_properties(cli.jpip_info PROPERTIES
      LABELS e2e TIMEOUT 300 SKIP_RETURN_CODE 77)
  endif()
endif()
