"""viz: draw the graph and watch backpropagation step by step."""
