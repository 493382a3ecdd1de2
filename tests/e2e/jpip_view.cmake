# SPDX-License-Identifier: BSD-2-Clause
# End-to-end test of jpip-view under Xvfb against jpipd (tests/e2e/jpip_view_test.sh): scripted
# input, screenshots compared with OpenJPEG's decode of the originals by jpip_view_compare.
# Included from tests/e2e/CMakeLists.txt; skipped (exit 77) only when no X server can start.
if(TARGET jpip-view AND TARGET jpipd)
  add_executable(jpip_view_compare ${CMAKE_CURRENT_LIST_DIR}/jpip_view_compare.c)
  target_link_libraries(jpip_view_compare PRIVATE jpip_view_math jpip_internal m)
  jpip_warnings(jpip_view_compare)
  # Band decoding (tools/jpip-view/bands.c) against one decode of the same region.
  add_executable(jpip_view_bands_test ${CMAKE_CURRENT_LIST_DIR}/jpip_view_bands_test.c)
  target_include_directories(jpip_view_bands_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  target_link_libraries(jpip_view_bands_test PRIVATE jpip_view_bands)
  jpip_warnings(jpip_view_bands_test)
  add_test(NAME unit.jpip_view_bands COMMAND jpip_view_bands_test)
  set_tests_properties(unit.jpip_view_bands PROPERTIES LABELS unit TIMEOUT 300)
  find_program(JPIP_VIEW_TEST_BASH bash)
  if(JPIP_VIEW_TEST_BASH)
    add_test(NAME e2e.jpip_view
      COMMAND ${JPIP_VIEW_TEST_BASH} ${CMAKE_CURRENT_LIST_DIR}/jpip_view_test.sh
              $<TARGET_FILE:jpip-view> $<TARGET_FILE:jpipd> $<TARGET_FILE:jpip_view_compare>)
    set_tests_properties(e2e.jpip_view PROPERTIES LABELS e2e TIMEOUT 600 SKIP_RETURN_CODE 77)
  endif()
endif()
