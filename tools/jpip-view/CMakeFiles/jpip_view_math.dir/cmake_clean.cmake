file(REMOVE_RECURSE
  "CMakeFiles/jpip_view_math.dir/view_math.c.o"
  "CMakeFiles/jpip_view_math.dir/view_math.c.o.d"
  "libjpip_view_math.a"
  "libjpip_view_math.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/jpip_view_math.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
