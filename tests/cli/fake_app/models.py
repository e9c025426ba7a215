from django.db import models


class Unmigrated(models.Model):
    name = models.CharField(max_length=20)
