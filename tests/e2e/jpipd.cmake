# SPDX-License-Identifier: BSD-2-Clause
# End-to-end test of jpipd over HTTP/HTTPS with curl (tests/e2e/jpipd_http_test.sh): views,
# sessions, keep-alive, chunked and Content-Length bodies, POST, CORS, TLS, every error
# status, the access log and the exit codes. Included from tests/e2e/CMakeLists.txt; skipped
# (exit 77) when curl or opj_compress is missing.
if(TARGET jpipd)
  find_program(JPIPD_TEST_BASH bash)
  if(JPIPD_TEST_BASH)
    add_test(NAME e2e.jpipd_http
      COMMAND ${JPIPD_TEST_BASH} ${CMAKE_CURRENT_LIST_DIR}/jpipd_http_test.sh
              $<TARGET_FILE:jpipd>)
    set_tests_properties(e2e.jpipd_http PROPERTIES
      LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77)
  endif()
endif()

# JHelioviewer's request pattern pipelined on one keep-alive connection to a real jpipd
# (tests/e2e/pipeline_test.c): every frame of a JPX exact, no byte twice.
if(TARGET jpipd)
  add_executable(pipeline_test ${CMAKE_CURRENT_LIST_DIR}/pipeline_test.c)
  target_include_directories(pipeline_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  target_link_libraries(pipeline_test PRIVATE jpip_internal)
  jpip_warnings(pipeline_test)
  add_test(NAME e2e.jpipd_pipeline COMMAND pipeline_test $<TARGET_FILE:jpipd>)
  set_tests_properties(e2e.jpipd_pipeline PROPERTIES
    LABELS e2e TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
