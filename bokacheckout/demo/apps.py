from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "bokacheckout.demo"
    label = "demo"
    verbose_name = "Demo pages"
