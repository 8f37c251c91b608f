from django.conf import settings


def navigation(request):
    return {"atrium_issuer": settings.ATRIUM_ISSUER}
