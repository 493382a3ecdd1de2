# SPDX-License-Identifier: BSD-2-Clause
# The helpers shared by the command-line tools (argument parsing, JSON output), as a static
# library. Each tool's CMakeLists.txt includes this file; the guard makes that idempotent.
if(NOT TARGET jpip_tool_common)
  add_library(jpip_tool_common STATIC
    ${CMAKE_CURRENT_LIST_DIR}/cli.c
    ${CMAKE_CURRENT_LIST_DIR}/json_writer.c)
  target_include_directories(jpip_tool_common PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  jpip_warnings(jpip_tool_common)
endif()
