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
