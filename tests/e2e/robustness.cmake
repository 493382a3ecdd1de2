# SPDX-License-Identifier: BSD-2-Clause
# Robustness against a real jpipd on 127.0.0.1 (issue 7): a short soak (bench/soak/run.sh with
# 20 clients for 20 s; the 10-minute run with 100 clients is run by hand), fault tests
# (tests/e2e/faults_test.sh) and security tests (tests/e2e/security_test.sh). Included from
# tests/e2e/CMakeLists.txt; each is skipped (exit 77) when curl or the OpenJPEG tools are missing.
if(TARGET jpipd)
  find_package(Threads REQUIRED)
  # The soak's load generator: libcurl clients, the stream reader and the client core.
  add_executable(soak_client ${PROJECT_SOURCE_DIR}/bench/soak/soak_client.c)
  target_link_libraries(soak_client PRIVATE jpip_internal Threads::Threads)
  jpip_warnings(soak_client)

  add_test(NAME e2e.soak_short
    COMMAND ${JPIP_BASH} ${PROJECT_SOURCE_DIR}/bench/soak/run.sh
            $<TARGET_FILE:jpipd> $<TARGET_FILE:soak_client> $<TARGET_FILE:mkimage>
            $<TARGET_FILE:mkjpx>)
  set_tests_properties(e2e.soak_short PROPERTIES
    ENVIRONMENT "SOAK_SECONDS=20;SOAK_CLIENTS=20;SOAK_WARMUP=5;SOAK_SMALL=1"
    LABELS e2e TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()

# Faults: resets mid-response, a slow reader, files replaced or truncated under the server, the
# server killed and restarted under load (faults_client.c sends the resets).
if(TARGET jpipd AND TARGET jpip-get AND TARGET jpip_get_cut_proxy)
  add_executable(faults_client ${CMAKE_CURRENT_LIST_DIR}/faults_client.c)
  jpip_warnings(faults_client)
  target_include_directories(faults_client PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  add_test(NAME e2e.faults
    COMMAND ${JPIP_BASH} ${CMAKE_CURRENT_LIST_DIR}/faults_test.sh
            $<TARGET_FILE:jpipd> $<TARGET_FILE:jpip-get> $<TARGET_FILE:faults_client>
            $<TARGET_FILE:mkimage> $<TARGET_FILE:jpip_get_cut_proxy>)
  set_tests_properties(e2e.faults PROPERTIES LABELS e2e TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()

# Security: path escapes, size limits, cid guessing, many sessions, huge models.
if(TARGET jpipd)
  add_test(NAME e2e.security
    COMMAND ${JPIP_BASH} ${CMAKE_CURRENT_LIST_DIR}/security_test.sh $<TARGET_FILE:jpipd>)
  set_tests_properties(e2e.security PROPERTIES LABELS e2e TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()

# A disk read error: eio_preload.c makes pread fail with EIO on part of one file while a trigger
# file exists (LD_PRELOAD; test-only).
if(TARGET jpipd AND TARGET jpip-get AND TARGET mkimage)
  add_library(eio_preload MODULE ${CMAKE_CURRENT_LIST_DIR}/eio_preload.c)
  target_link_libraries(eio_preload PRIVATE ${CMAKE_DL_LIBS})
  jpip_warnings(eio_preload)
  # The preload must not carry the sanitizers' runtime: jpipd's own comes first.
  set_target_properties(eio_preload PROPERTIES PREFIX "")
  target_compile_options(eio_preload PRIVATE -fno-sanitize=all)
  target_link_options(eio_preload PRIVATE -fno-sanitize=all)
  add_test(NAME e2e.disk_error
    COMMAND ${JPIP_BASH} ${CMAKE_CURRENT_LIST_DIR}/disk_error_test.sh
            $<TARGET_FILE:jpipd> $<TARGET_FILE:jpip-get> $<TARGET_FILE:mkimage>
            $<TARGET_FILE:eio_preload>)
  set_tests_properties(e2e.disk_error PROPERTIES LABELS e2e TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()
