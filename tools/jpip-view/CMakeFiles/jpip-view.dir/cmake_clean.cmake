file(REMOVE_RECURSE
  "CMakeFiles/jpip-view.dir/bands.c.o"
  "CMakeFiles/jpip-view.dir/bands.c.o.d"
  "CMakeFiles/jpip-view.dir/font.c.o"
  "CMakeFiles/jpip-view.dir/font.c.o.d"
  "CMakeFiles/jpip-view.dir/loader.c.o"
  "CMakeFiles/jpip-view.dir/loader.c.o.d"
  "CMakeFiles/jpip-view.dir/main.c.o"
  "CMakeFiles/jpip-view.dir/main.c.o.d"
  "CMakeFiles/jpip-view.dir/script.c.o"
  "CMakeFiles/jpip-view.dir/script.c.o.d"
  "CMakeFiles/jpip-view.dir/shot.c.o"
  "CMakeFiles/jpip-view.dir/shot.c.o.d"
  "CMakeFiles/jpip-view.dir/ui.c.o"
  "CMakeFiles/jpip-view.dir/ui.c.o.d"
  "jpip-view"
  "jpip-view.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/jpip-view.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
