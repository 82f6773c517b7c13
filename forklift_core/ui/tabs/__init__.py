"""One module per tab; tabs talk through the workspace, not through each other's widgets."""
