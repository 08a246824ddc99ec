"""What each output of a model means: the digits, or EMNIST's 62 "byclass" labels (digits,
then capitals, then lower case), and the letters no one can tell apart alone.

Written alone and framed as MNIST frames a digit, a lower-case c is a capital C made
smaller, and the framing takes the size away: EMNIST's "balanced" split therefore merges the
15 lower-case letters whose capital has the same shape. Digits stay apart from letters
there (0 and O are two classes), as they do here.
"""

import string

DIGITS = string.digits
ALPHANUMERIC = string.digits + string.ascii_uppercase + string.ascii_lowercase

# Lower-case letters that EMNIST's balanced split counts as their capital.
MERGED = "cijklmopsuvwxyz"
# Every label's class once those are merged: "c" -> "C", "a" stays "a".
BALANCED = {label: label.upper() if label in MERGED else label for label in ALPHANUMERIC}
BALANCED_CLASSES = len(set(BALANCED.values()))  # 47


def classes_for(outputs):
    """The labels of a network's outputs, told by how many there are (10 or 62)."""
    return {len(DIGITS): DIGITS, len(ALPHANUMERIC): ALPHANUMERIC}[outputs]
