# SPDX-License-Identifier: BSD-2-Clause
# jpip-info --write-index (15444-9 Annex I index boxes): annexi_check parses the written boxes
# back with our box parser; annexi_test.sh encodes files with opj_compress and runs both.
# Included from tests/e2e/CMakeLists.txt; skipped (exit 77) when opj_compress is missing.
if(TARGET jpip-info)
  add_executable(annexi_check ${CMAKE_CURRENT_LIST_DIR}/annexi_check.c)
  target_link_libraries(annexi_check PRIVATE jpip_internal)
  jpip_warnings(annexi_check)
  add_test(NAME cli.jpip_info_annexi
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/annexi_test.sh
            $<TARGET_FILE:jpip-info> $<TARGET_FILE:annexi_check> $<TARGET_FILE:mkimage>)
  set_tests_properties(cli.jpip_info_annexi PROPERTIES
    LABELS e2e TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
