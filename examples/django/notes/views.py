"""One page with a form: a note posted is shown back (no database)."""
from django.http import JsonResponse
from django.shortcuts import render

from .forms import NoteForm


def index(request):
    note = None
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["text"]
        form = NoteForm()
    return render(request, "notes/index.html", {"form": form, "note": note})


def health(request):
    return JsonResponse({"status": "ok"})
