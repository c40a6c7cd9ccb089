"""A module shipped at a layer's top level."""

NAME = "from the layer top level"
