from django.apps import AppConfig


class SentimentConfig(AppConfig):
    name = "apps.sentiment"
    label = "sentiment"
