"""Portal-wide request hygiene."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

NUL = "\x00"


class RejectNulCharactersMiddleware:
    """A NUL character in a query or form parameter is refused with a 400 before any view runs.

    No database text column holds one (PostgreSQL raises DataError, a 500, deep inside a query),
    and no legitimate parameter carries one. Django's form fields refuse NUL already; query
    parameters read by the API and list filters go to the database raw, so this is the one place
    that covers them all. Uploaded file contents are not parameters (the CSV reader checks them).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            has_nul = _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST))
        except MultiPartParserError:
            has_nul = False  # a broken body is the view's (or the token guard's) to answer
        if has_nul:
            message = "A request parameter contains a NUL character."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(render_to_string("400.html", {"message": message}, request=request))
        return self.get_response(request)


def _has_nul(params) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in params.lists())
