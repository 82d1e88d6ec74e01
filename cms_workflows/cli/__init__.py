"""`cms`: the command line, one module per domain over the same services as the web app and the flows."""
