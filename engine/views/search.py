"""The search page: the top bar's box, across everything the caller can see."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engine.selectors.search import PER_KIND
from engine.selectors.search import search as search_all

PAGE = "engine/search.html"


@login_required
@require_GET
def search(request):
    results = search_all(request=request, query=request.GET.get("q", ""))
    template = f"{PAGE}#search-results" if request.htmx else PAGE
    context = {"results": results, "search_query": results.query, "per_kind": PER_KIND}
    return render(request, template, context)
