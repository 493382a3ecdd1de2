# Empty dependencies file for jpip_view_math.
# This may be replaced when dependencies are built.
