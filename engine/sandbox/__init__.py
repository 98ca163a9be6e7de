"""What a diagram's code may run: the RestrictedPython sandbox every script, condition and
timer expression runs in, the size guards of single operations, and the date functions
diagrams call."""
