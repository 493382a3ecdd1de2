# SPDX-License-Identifier: BSD-2-Clause
# End-to-end test of jpip-get against jpipd (tests/e2e/jpip_get_test.sh): every J2K/JP2 file of
# the generated corpus in five views compared byte for byte with opj_decompress, the cache
# file, a server killed and restarted mid-transfer, a body cut by a relay, stateless/POST
# requests and exit codes.
# Included from tests/e2e/CMakeLists.txt; skipped (exit 77) when jpipd or the OpenJPEG tools
# are missing.
if(TARGET jpip-get AND TARGET jpipd AND TARGET jpip-info)
  # A TCP relay that resets the first connection in the middle of a response body.
  add_executable(jpip_get_cut_proxy ${CMAKE_CURRENT_LIST_DIR}/jpip_get_cut_proxy.c)
  jpip_warnings(jpip_get_cut_proxy)
  target_include_directories(jpip_get_cut_proxy PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  find_program(JPIP_GET_TEST_BASH bash)
  if(JPIP_GET_TEST_BASH)
    add_test(NAME e2e.jpip_get
      COMMAND ${JPIP_GET_TEST_BASH} ${CMAKE_CURRENT_LIST_DIR}/jpip_get_test.sh
              $<TARGET_FILE:jpip-get> $<TARGET_FILE:jpipd> $<TARGET_FILE:jpip-info>
              ${JPIP_CORPUS_DIR} $<TARGET_FILE:jpip_get_cut_proxy>)
    set_tests_properties(e2e.jpip_get PROPERTIES
      FIXTURES_REQUIRED corpus LABELS e2e TIMEOUT 600 SKIP_RETURN_CODE 77)
  endif()
endif()

# jpip-get against servers that break HTTP framing (tests/e2e/jpip_get_hostile_test.sh).
if(TARGET jpip-get)
  add_executable(hostile_httpd ${CMAKE_CURRENT_LIST_DIR}/hostile_httpd.c)
  jpip_warnings(hostile_httpd)
  target_include_directories(hostile_httpd PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  find_program(JPIP_GET_HOSTILE_BASH bash)
  if(JPIP_GET_HOSTILE_BASH)
    add_test(NAME e2e.jpip_get_hostile
      COMMAND ${JPIP_GET_HOSTILE_BASH} ${CMAKE_CURRENT_LIST_DIR}/jpip_get_hostile_test.sh
              $<TARGET_FILE:jpip-get> $<TARGET_FILE:hostile_httpd>)
    set_tests_properties(e2e.jpip_get_hostile PROPERTIES LABELS e2e TIMEOUT 300)
  endif()
endif()
