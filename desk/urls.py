from django.urls import path

from desk import views

app_name = "desk"

agenda = [
    path("", views.day_view, name="day"),
    path("week/", views.week_view, name="week"),
    path("print/", views.print_view, name="print"),
]
# What a clerk does: each a form, posted.
actions = [
    path("book/", views.book_view, name="book"),
    path("appointments/<str:lid>/cancel/", views.cancel_view, name="cancel"),
    path("appointments/<str:lid>/move/", views.move_view, name="move"),
    path("absences/new/", views.absence_new_view, name="absence-new"),
    path("absences/<int:pk>/", views.absence_view, name="absence"),
]
urlpatterns = agenda + actions
