app_name = "archiver"
urlpatterns = []
