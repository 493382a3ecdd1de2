file(REMOVE_RECURSE
  "libjpip_view_math.a"
)
