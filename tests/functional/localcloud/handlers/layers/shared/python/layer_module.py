"""A module shipped in a layer's python/ folder."""

NAME = "from the python/ folder"
