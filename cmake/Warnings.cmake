function(jpip_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wvla -Wformat=2 -Wundef -Wwrite-strings -Wpointer-arith)
  if(JPIP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
