"""Prints the top-1 accuracy of logits [N, 10] against labels [N]."""
import sys

import numpy as np

logits, labels, what = np.load(sys.argv[1]), np.load(sys.argv[2]), sys.argv[3]
acc = float((logits.reshape(len(labels), -1).argmax(1) == labels).mean())
print(f"{what} accuracy: {100 * acc:.2f} %")
