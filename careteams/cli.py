"""Command-line entry points: `flask --app careteams ...`."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from careteams.auth.services import send_invitation
from careteams.demo import seed
from careteams.extensions import db
from careteams.governance.cli import governance_cli
from careteams.governance.demo import TELLERS_NOTE as DEMO_TELLERS_NOTE
from careteams.mail.cli import mail_cli
from careteams.members import services as members
from careteams.members.models import Person, StaffRoleName
from careteams.scheduler import load_jobs, run_clock, run_job
from careteams.sms.cli import sms_cli
from careteams.teams.services.circle import ensure_default_hat_types


def register(app: Flask) -> None:
    scheduler_cli = AppGroup("scheduler", help="The clock process.")

    @scheduler_cli.command("run")
    def scheduler_run():
        """Run the one clock process (APScheduler) until stopped."""
        run_clock(app)

    @scheduler_cli.command("run-job")
    @click.argument("job_id")
    def scheduler_run_job(job_id: str):
        """Run one registered job once, now."""
        click.echo(f"{job_id}: {run_job(app, job_id)!r}")

    @scheduler_cli.command("list")
    def scheduler_list():
        """List the registered jobs."""
        for registered in load_jobs().values():
            click.echo(f"{registered.id}  {registered.trigger} {registered.trigger_args}")

    app.cli.add_command(scheduler_cli)

    app.cli.add_command(sms_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(governance_cli)

    @app.cli.command("seed-demo")
    def seed_demo():
        """Create (or refresh) the demo co-op and print its logins. Idempotent."""
        logins = seed()
        click.echo("\nDemo co-op ready. Log in with any of these (password for all: "
                   f"{logins['password']}):")
        for role, email in logins["people"]:
            click.echo(f"  {role:<28} {email}")
        click.echo("\nStaff also pass a second factor (TOTP). Add a secret to an authenticator app, "
                   "or print the current code with: python -c 'import pyotp; print(pyotp.TOTP(\"SECRET\").now())'")
        for email, secret in logins.get("totp_secrets", {}).items():
            click.echo(f"  {email:<36} {secret}")
        click.echo(f"\n{DEMO_TELLERS_NOTE}")

    @app.cli.command("create-coop")
    @click.option("--name", required=True)
    @click.option("--slug", required=True)
    @click.option("--timezone", default=None)
    @click.option("--admin-email", required=True, help="The first admin; invited if new.")
    @click.option("--admin-name", default="Co-op admin")
    def create_coop(name, slug, timezone, admin_email, admin_name):
        """Create a co-operative with its first admin (deployment operators)."""
        coop = members.create_cooperative(name, slug, timezone)
        ensure_default_hat_types(coop)  # Rota wrangler, Team builder, Plan keeper, Hours checker
        person = db.session.scalar(sa.select(Person).where(Person.email == admin_email.lower()))
        if person is None:
            person = members.create_person(admin_name, admin_email.lower())
            send_invitation(person, None, coop.name)
        members.grant_staff_role(None, coop, person, StaffRoleName.admin)
        db.session.commit()
        click.echo(f"Created {coop.name} ({coop.slug}); {admin_email} is its admin.")
