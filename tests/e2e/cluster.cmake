# SPDX-License-Identifier: BSD-2-Clause
# Several servers (tests/e2e/cluster_test.sh): three jpipd back-ends, a delegating front jpipd
# and HAProxy with deploy/haproxy.cfg on 127.0.0.1; 20 jpip-get clients per route, a back-end
# killed in the middle, every image exact and no byte received twice. Skipped (exit 77) when
# haproxy or the OpenJPEG tools are missing.
if(TARGET jpip-get AND TARGET jpipd AND TARGET mkimage)
  find_program(JPIP_CLUSTER_TEST_BASH bash)
  if(JPIP_CLUSTER_TEST_BASH)
    add_test(NAME e2e.cluster
      COMMAND ${JPIP_CLUSTER_TEST_BASH} ${CMAKE_CURRENT_LIST_DIR}/cluster_test.sh
              $<TARGET_FILE:jpipd> $<TARGET_FILE:jpip-get> $<TARGET_FILE:mkimage>
              ${PROJECT_SOURCE_DIR}/deploy)
    set_tests_properties(e2e.cluster PROPERTIES LABELS e2e TIMEOUT 300 SKIP_RETURN_CODE 77)
  endif()
endif()
