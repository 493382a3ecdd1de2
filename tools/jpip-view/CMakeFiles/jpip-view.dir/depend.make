# Empty dependencies file for jpip-view.
# This may be replaced when dependencies are built.
