"""Quizzes: question banks with versioned questions, the question-type registry,
and quiz definitions (which questions an attempt draws, time, attempts, pass mark,
review).  Public functions: :mod:`lms.quizzes.services`.
"""
from flask import Flask


def register(app: Flask) -> None:
    from lms.content import register_loader
    from lms.quizzes.loader import QuizzesLoader

    register_loader(QuizzesLoader())
