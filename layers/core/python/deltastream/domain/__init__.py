"""Pure quant core: pricing, market simulation, chain analytics, bars, surfaces.

Only numpy, scipy and the standard library are imported here (a unit test enforces it), so every
function is deterministic given its inputs and cheap to test.
"""
