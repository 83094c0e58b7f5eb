from django.apps import AppConfig


class LearningAppConfig(AppConfig):
    name = "apps.learning"
    label = "learning"
