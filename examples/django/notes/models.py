from django.db import models


class Note(models.Model):
    """A note posted through the form, kept in the SQLite database in the
    data folder (`[iis] data-folders`), which redeploys keep."""

    text = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)
