"""Training tooling: fine-tuning, distillation, the generated sentence grammar, ONNX export.

Run by ``manage.py train_sentiment`` (and tests and ``bench/``), never by a worker or the web
process: the runtime finds and loads models through :mod:`apps.sentiment.store` only, and the
``training-out-of-runtime`` contract in ``.importlinter`` checks that no runtime module imports this
package.
"""
