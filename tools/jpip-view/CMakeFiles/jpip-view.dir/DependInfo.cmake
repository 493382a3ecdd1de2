
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tools/jpip-view/bands.c" "tools/jpip-view/CMakeFiles/jpip-view.dir/bands.c.o" "gcc" "tools/jpip-view/CMakeFiles/jpip-view.dir/bands.c.o.d"
  "/work/main/tools/jpip-view/font.c" "tools/jpip-view/CMakeFiles/jpip-view.dir/font.c.o" "gcc" "tools/jpip-view/CMakeFiles/jpip-view.dir/font.c.o.d"
  "/work/main/tools/jpip-view/loader.c" "tools/jpip-view/CMakeFiles/jpip-view.dir/loader.c.o" "gcc" "tools/jpip-view/CMakeFiles/jpip-view.dir/loader.c.o.d"
  "/work/main/tools/jpip-view/main.c" "tools/jpip-view/CMakeFiles/jpip-view.dir/main.c.o" "gcc" "tools/jpip-view/CMakeFiles/jpip-view.dir/main.c.o.d"
  "/work/main/tools/jpip-view/script.c" "tools/jpip-view/CMakeFiles/jpip-view.dir/script.c.o" "gcc" "tools/jpip-view/CMakeFiles/jpip-view.dir/script.c.o.d"
  "/work/main/tools/jpip-view/shot.c" "tools/jpip-view/CMakeFiles/jpip-view.dir/shot.c.o" "gcc" "tools/jpip-view/CMakeFiles/jpip-view.dir/shot.c.o.d"
  "/work/main/tools/jpip-view/ui.c" "tools/jpip-view/CMakeFiles/jpip-view.dir/ui.c.o" "gcc" "tools/jpip-view/CMakeFiles/jpip-view.dir/ui.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/tools/jpip-view/CMakeFiles/jpip_view_math.dir/DependInfo.cmake"
  "/work/main/tools/jpip-info/CMakeFiles/jpip_tool_common.dir/DependInfo.cmake"
  "/work/main/CMakeFiles/jpip_internal.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
