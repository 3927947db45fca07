from django.core.management.base import BaseCommand

from demo.hospital import admin_url, desk_url, ensure_demo_admin


class Command(BaseCommand):
    help = "Creates a superuser with a random password when none exists, and shows the password this once."

    def handle(self, *args, **options):
        username, password = ensure_demo_admin()
        url = admin_url()
        if password is None:
            self.stdout.write(
                f"Admin: {url} (superuser {username!r} already exists). "
                f"Forgot the password? python manage.py changepassword {username}"
            )
            self.stdout.write(f"Desk:  {desk_url()} (the clerks' agenda; same login)")
            return
        self.stdout.write(
            "\n".join(
                [
                    "A superuser was created for the admin:",
                    f"  URL:      {url}",
                    f"  desk:     {desk_url()} (the clerks' agenda; same login)",
                    f"  username: {username}",
                    f"  password: {password}",
                    "This password will not be shown again "
                    f"(change it with: python manage.py changepassword {username}).",
                ]
            )
        )
