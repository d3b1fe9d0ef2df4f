"""One page with a form: a note posted is saved in the database and the
latest ones are listed (the page reads the database, so it answers only
once `manage.py migrate` has run: the install step's set-up command)."""
from django.http import JsonResponse
from django.shortcuts import render

from .forms import NoteForm
from .models import Note


def index(request):
    note = None
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = Note.objects.create(text=form.cleaned_data["text"]).text
        form = NoteForm()
    return render(
        request,
        "notes/index.html",
        {
            "form": form,
            "note": note,
            "notes": Note.objects.order_by("-created", "-id")[:10],
            "count": Note.objects.count(),
        },
    )


def health(request):
    return JsonResponse({"status": "ok"})
