"""Handwritten digit recognition: MNIST models, robust preprocessing and a Gradio app."""

import os

# TensorFlow's C++ start-up chatter (CPU features, missing CUDA) says nothing a user can act on.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitrec.data import load_mnist
from digitrec.errors import DatasetError, InvalidImageError, ModelFileError, NoDigitError
from digitrec.preprocessing import preprocess
from digitrec.prediction import Prediction
from digitrec.recognizer import Recognizer, load_recognizer, predict_digit

__all__ = [
    "DatasetError",
    "InvalidImageError",
    "ModelFileError",
    "NoDigitError",
    "Prediction",
    "Recognizer",
    "load_mnist",
    "load_recognizer",
    "predict_digit",
    "preprocess",
]
