"""The big-image engine: imports too large (or conversions too big for the function's
temporary storage) for one worker invocation run as a container task (docs/big-images.md)."""
