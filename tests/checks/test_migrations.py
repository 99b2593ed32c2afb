"""`migrations.destructive` on real git repositories: each destructive operation (Django, Alembic, SQL) fails
on its file and line and its safe twin passes; approval by commit trailer (exactly the file it names) or by an
unexpired waiver; unparsable migrations are could-not-verify; the pre phase is blocked until a trailer
approves; the readers never raise anything but Unreadable, whatever the text."""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launch_gate.checks import Context
from launch_gate.config import load_settings
from launch_gate.config.schema import MigrationOperation
from launch_gate.errors import ConfigError
from launch_gate.migrations import KINDS, UNPARSABLE, Layout, Unreadable, alembic_dirs, read_migration
from launch_gate.results import CheckResult, Outcome
from launch_gate.runner import build_plan, run_plan
from launch_gate.secretscan.sources import Push, read_push
from tests.conftest import base_env, run_cli
from tests.test_hook import git

CHECK = "migrations.destructive"
TRAILER = "Approved-Destructive-Migration"

DJANGO_BASE = """from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel(
            name="User",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("email", models.CharField(max_length=100)),
                ("nick", models.CharField(max_length=20, null=True)),
                ("legacy", models.CharField(max_length=10)),
                ("score", models.IntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(name="Team", fields=[("id", models.AutoField(primary_key=True))]),
    ]
"""
DJANGO = """from django.contrib.postgres.operations import AddConstraintNotValid, AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("app", "0001_initial")]
    operations = [
        {body}
    ]
"""
ALEMBIC = '''"""a change"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    {body}


def downgrade():
    op.drop_table("users")
'''
BASE_FILES = {
    "README.md": "# coachly\n",
    "app/__init__.py": "",
    "app/migrations/__init__.py": "",
    "app/migrations/0001_initial.py": DJANGO_BASE,
    "alembic/versions/0001_initial.py": ALEMBIC.replace("{body}", 'op.create_table("users")'),
    "db/migrations/0001_init.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100));\n",
}


@dataclass(frozen=True)
class Case:
    """A destructive operation, its safe twin, where they go and the kind the check must report."""

    id: str
    kind: str
    destructive: str
    safe: str
    path: str
    template: str = "{body}"
    dialect: str = "postgresql"
    needle: str | None = None  # what the reported line holds (default: the start of `destructive`)

    def text(self, body: str) -> str:
        return self.template.replace("{body}", body)

    @property
    def line(self) -> int:
        text = self.text(self.destructive)
        needle = self.needle or self.destructive[:20]
        return text[: text.index(needle)].count("\n") + 1


def django(id: str, kind: str, destructive: str, safe: str, needle: str | None = None) -> Case:
    return Case(
        f"django-{id}", kind, destructive, safe, "app/migrations/0002_change.py", DJANGO, needle=needle
    )


def alembic(id: str, kind: str, destructive: str, safe: str, needle: str | None = None) -> Case:
    return Case(
        f"alembic-{id}", kind, destructive, safe, "alembic/versions/0002_change.py", ALEMBIC, needle=needle
    )


def sql(
    id: str, kind: str, destructive: str, safe: str, path: str = "db/migrations/0002_change.sql", **kw
) -> Case:
    kw.setdefault("needle", destructive)
    return Case(f"sql-{id}", kind, "-- a change\n" + destructive, "-- a change\n" + safe, path, **kw)


def other(dialect: str, id: str, kind: str, destructive: str, safe: str) -> Case:
    return sql(f"{dialect}-{id}", kind, destructive, safe, "db/migrate/0002_change.sql", dialect=dialect)


USER_INDEX = 'models.Index(fields=["email"], name="user_email_ix")'
CHECK_CONSTRAINT = 'models.CheckConstraint(check=models.Q(score__gte=0), name="score_positive")'
RUN_SQL = 'migrations.RunSQL("""\n            SELECT 1;\n            ALTER TABLE app_user {};\n        """),'
TEAM_FK = 'models.ForeignKey(null=True, on_delete=models.SET_NULL, to="app.team"'

DJANGO_CASES = [
    django("remove-field", "drop-column", 'migrations.RemoveField(model_name="user", name="legacy"),',
           'migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("user", "legacy")]),'),
    django("delete-model", "drop-table", 'migrations.DeleteModel(name="Team"),',
           'migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Team")]),'),
    django("rename-field", "rename-column", 'migrations.RenameField("user", "nick", "nickname"),',
           'migrations.AddField("user", "nickname", models.CharField(max_length=20, null=True)),'),
    django("rename-model", "rename-table", 'migrations.RenameModel(old_name="Team", new_name="Squad"),',
           'migrations.CreateModel(name="Squad", fields=[("id", models.AutoField(primary_key=True))]),'),
    django("alter-model-table", "rename-table", 'migrations.AlterModelTable(name="team", table="squads"),',
           'migrations.AlterModelOptions(name="team", options={"ordering": ["id"]}),'),
    django("shorter-char", "narrow-type",
           'migrations.AlterField("user", "email", models.CharField(max_length=50)),',
           'migrations.AlterField("user", "email", models.CharField(max_length=200)),'),
    django("smaller-integer", "narrow-type",
           'migrations.AlterField("user", "score", models.SmallIntegerField(default=0)),',
           'migrations.AlterField("user", "score", models.BigIntegerField(default=0)),'),
    django("null-to-not-null", "not-null",
           'migrations.AlterField("user", "nick", models.CharField(max_length=20)),',
           'migrations.AlterField("user", "nick", models.CharField(max_length=20, default="")),'),
    django("add-not-null", "not-null", 'migrations.AddField("user", "age", models.IntegerField()),',
           'migrations.AddField("user", "age", models.IntegerField(default=0)),'),
    django("add-index", "blocking-index", f'migrations.AddIndex(model_name="user", index={USER_INDEX}),',
           f'AddIndexConcurrently(model_name="user", index={USER_INDEX}),'),
    django("check-constraint", "validating-constraint",
           f'migrations.AddConstraint(model_name="user", constraint={CHECK_CONSTRAINT}),',
           f'AddConstraintNotValid(model_name="user", constraint={CHECK_CONSTRAINT}),'),
    django("foreign-key", "validating-constraint", f'migrations.AddField("user", "team", {TEAM_FK})),',
           f'migrations.AddField("user", "team", {TEAM_FK}, db_constraint=False, db_index=False)),'),
    django("run-sql-delete", "delete-all",
           'migrations.RunSQL("DELETE FROM app_user", reverse_sql=migrations.RunSQL.noop),',
           "migrations.RunSQL(\"DELETE FROM app_user WHERE email = ''\", reverse_sql=migrations.RunSQL.noop),"),
    django("run-sql-multiline", "drop-column", RUN_SQL.format("DROP COLUMN legacy"),
           RUN_SQL.format("ADD COLUMN bio text"), needle="ALTER TABLE app_user"),
    django("run-sql-built", "unchecked", "migrations.RunSQL(build_sql()),",
           "migrations.RunPython(migrations.RunPython.noop),"),
]  # fmt: skip

ALEMBIC_CASES = [
    alembic("drop-table", "drop-table", 'op.drop_table("teams")', 'op.drop_index("ix_teams_name", table_name="teams")'),
    alembic("drop-column", "drop-column", 'op.drop_column("users", "legacy")',
            'op.drop_constraint("uq_legacy", "users")'),
    alembic("batch-drop-column", "drop-column",
            'with op.batch_alter_table("users") as batch_op:\n        batch_op.drop_column("legacy")',
            'with op.batch_alter_table("users") as batch_op:\n        batch_op.drop_constraint("uq_legacy")',
            needle="batch_op.drop_column"),
    alembic("rename-column", "rename-column", 'op.alter_column("users", "nick", new_column_name="nickname")',
            'op.add_column("users", sa.Column("nickname", sa.String(20), nullable=True))'),
    alembic("rename-table", "rename-table", 'op.rename_table("teams", "squads")',
            'op.create_table("squads", sa.Column("id", sa.Integer(), primary_key=True))'),
    alembic("narrower", "narrow-type",
            'op.alter_column("users", "email", type_=sa.String(length=50), existing_type=sa.String(length=100))',
            'op.alter_column("users", "email", type_=sa.String(length=200), existing_type=sa.String(length=100))'),
    alembic("type-unknown-before", "narrow-type", 'op.alter_column("users", "email", type_=sa.String(50))',
            'op.alter_column("users", "email", type_=sa.Text())'),
    alembic("not-null", "not-null", 'op.alter_column("users", "nick", nullable=False, server_default="")',
            'op.create_check_constraint("nick_nn", "users", "nick IS NOT NULL", postgresql_not_valid=True)\n    '
            'op.execute("ALTER TABLE users VALIDATE CONSTRAINT nick_nn")\n    '
            'op.alter_column("users", "nick", nullable=False)'),
    alembic("not-null-backfilled", "not-null", 'op.alter_column("users", "nick", nullable=False)',
            'op.execute("UPDATE users SET nick = \'\' WHERE nick IS NULL")\n    '
            'op.alter_column("users", "nick", nullable=False)'),
    alembic("add-not-null", "not-null", 'op.add_column("users", sa.Column("age", sa.Integer(), nullable=False))',
            'op.add_column("users", sa.Column("age", sa.Integer(), nullable=False, server_default="0"))'),
    alembic("create-index", "blocking-index", 'op.create_index("ix_users_email", "users", ["email"])',
            'with op.get_context().autocommit_block():\n        '
            'op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True)'),
    alembic("foreign-key", "validating-constraint",
            'op.create_foreign_key("fk_team", "users", "teams", ["team_id"], ["id"])',
            'op.create_foreign_key("fk_team", "users", "teams", ["team_id"], ["id"], postgresql_not_valid=True)'),
    alembic("check", "validating-constraint", 'op.create_check_constraint("ck_age", "users", "age >= 0")',
            'op.create_check_constraint("ck_age", "users", "age >= 0", postgresql_not_valid=True)'),
    alembic("truncate", "truncate", 'op.execute("TRUNCATE users")', 'op.execute("DELETE FROM users WHERE id < 0")'),
    alembic("update-all", "update-all", 'op.execute(sa.text("UPDATE users SET active = true"))',
            'op.execute(sa.text("UPDATE users SET active = true WHERE active IS NULL"))'),
    alembic("sql-built", "unchecked", "op.execute(users.delete())", 'op.execute("SELECT 1")'),
]  # fmt: skip

SQL_CASES = [
    sql("drop-table", "drop-table", "DROP TABLE teams;", "DROP VIEW team_names;"),
    sql("drop-schema", "drop-schema", "DROP SCHEMA archive CASCADE;", "CREATE SCHEMA archive;"),
    sql("drop-column", "drop-column", "ALTER TABLE users DROP COLUMN legacy;",
        "ALTER TABLE users DROP CONSTRAINT users_legacy_check;"),
    sql("rename-column", "rename-column", "ALTER TABLE users RENAME COLUMN nick TO nickname;",
        "ALTER TABLE users ADD COLUMN nickname text;"),
    sql("rename-table", "rename-table", "ALTER TABLE teams RENAME TO squads;",
        "CREATE VIEW squads AS SELECT * FROM teams;"),
    sql("type", "narrow-type", "ALTER TABLE users ALTER COLUMN email TYPE varchar(50);",
        "ALTER TABLE users ALTER COLUMN email TYPE text;"),
    sql("set-not-null", "not-null", "ALTER TABLE users ALTER COLUMN nick SET NOT NULL;",
        "ALTER TABLE users ADD CONSTRAINT nick_nn CHECK (nick IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE users VALIDATE CONSTRAINT nick_nn;\nALTER TABLE users ALTER COLUMN nick SET NOT NULL;"),
    sql("add-not-null", "not-null", "ALTER TABLE users ADD COLUMN age integer NOT NULL;",
        "ALTER TABLE users ADD COLUMN age integer NOT NULL DEFAULT 0;"),
    sql("truncate", "truncate", "TRUNCATE users;", "DELETE FROM users WHERE id < 0;"),
    sql("delete-all", "delete-all", "DELETE FROM sessions;", "DELETE FROM sessions WHERE expires_at < now();"),
    sql("update-all", "update-all", "UPDATE users SET active = true;",
        "UPDATE users SET active = true WHERE active IS NULL;"),
    sql("create-index", "blocking-index", "CREATE INDEX users_email_ix ON users (email);",
        "CREATE INDEX CONCURRENTLY users_email_ix ON users (email);"),
    sql("index-on-new-table", "blocking-index", "CREATE INDEX users_email_ix ON users (email);",
        "CREATE TABLE audit (id bigint, at timestamptz);\nCREATE INDEX audit_at_ix ON audit (at);"),
    sql("unique", "blocking-index", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_ix;"),
    sql("foreign-key", "validating-constraint",
        "ALTER TABLE users ADD CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES teams (id);",
        "ALTER TABLE users ADD CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) NOT VALID;"),
    sql("prisma", "drop-column", "ALTER TABLE \"User\" DROP COLUMN \"legacy\";",
        "ALTER TABLE \"User\" ADD COLUMN \"bio\" TEXT;", "prisma/migrations/20240102000000_change/migration.sql"),
    sql("flyway", "drop-table", "DROP TABLE teams;", "CREATE TABLE teams_archive (id bigint);",
        "db/migration/V2__change.sql"),
    sql("dbmate-down-is-the-rollback", "drop-column",
        "-- migrate:up\nALTER TABLE users DROP COLUMN age;\n-- migrate:down\nALTER TABLE users ADD COLUMN age int;",
        "-- migrate:up\nALTER TABLE users ADD COLUMN age int;\n-- migrate:down\nALTER TABLE users DROP COLUMN age;",
        needle="ALTER TABLE users DROP"),
    other("mysql", "drop-column", "drop-column", "ALTER TABLE users DROP COLUMN legacy;",
          "ALTER TABLE users ADD COLUMN bio TEXT;"),
    other("mysql", "rename-table", "rename-table", "RENAME TABLE teams TO squads;", "CREATE TABLE squads (id INT);"),
    other("mysql", "modify", "narrow-type", "ALTER TABLE users MODIFY COLUMN email VARCHAR(50);",
          "ALTER TABLE users MODIFY COLUMN email LONGTEXT;"),
    other("mysql", "add-not-null", "not-null", "ALTER TABLE users ADD COLUMN age INT NOT NULL;",
          "ALTER TABLE users ADD COLUMN age INT NOT NULL DEFAULT 0;"),
    other("mysql", "delete-all", "delete-all", "DELETE FROM sessions;", "DELETE FROM sessions WHERE id < 10;"),
    other("sqlite", "drop-table", "drop-table", "DROP TABLE teams;", "DROP INDEX teams_name_ix;"),
]  # fmt: skip

CASES = [*DJANGO_CASES, *ALEMBIC_CASES, *SQL_CASES]
# Cases that fit in one migration file: one framework, one dialect.
GROUPS = [
    DJANGO_CASES,
    ALEMBIC_CASES,
    *([c for c in SQL_CASES if c.dialect == d] for d in ("postgresql", "mysql", "sqlite")),
]


def test_every_kind_of_operation_has_a_case_and_a_waiver_name():
    assert {c.kind for c in CASES} == set(KINDS)
    assert set(MigrationOperation.__args__) == {*KINDS, UNPARSABLE}  # type: ignore[attr-defined]


# --- repositories -------------------------------------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit(root: Path, message: str = "work") -> str:
    git("add", "-A", cwd=root)
    done = git("commit", "-qm", message, cwd=root)
    assert done.returncode == 0, done.stderr
    return git("rev-parse", "HEAD", cwd=root).stdout.strip()


def repo(project, config: str = "") -> tuple[Path, str]:
    """A repository with migrations already deployed (the base commit), and that commit."""
    root = project({"launch-gate.toml": config, **BASE_FILES})
    git("init", "-q", cwd=root)
    return root, commit(root, "deployed")


def gate(
    root: Path, base: str | None = None, environ: dict[str, str] | None = None, push: Push | None = None
):
    """The check as `launch-gate check --select migrations --base BASE` runs it."""
    overrides = {"secrets": {"base": base}} if base else {}
    settings = load_settings(cwd=root, environ={}, overrides=overrides)
    context = Context(settings, dict(environ or {}), push=push)
    [result] = run_plan(build_plan(settings, "all", [CHECK]), context).results
    return result


def kinds(result: CheckResult) -> list[str]:
    return [f.message.split(":", 1)[0] for f in result.findings if f.file]


# --- each destructive operation, and its safe twin ----------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_destructive_operation_fails_on_its_line_and_its_safe_twin_passes(project, case):
    root, base = repo(project, f'[migrations]\ndialect = "{case.dialect}"\n')
    write(root, {case.path: case.text(case.destructive)})
    result = gate(root, base)
    assert result.outcome is Outcome.FAIL, result.message
    assert kinds(result) == [case.kind], result.findings
    [finding] = result.findings
    assert (finding.file, finding.line) == (case.path, case.line)
    assert f"({case.kind}), not approved" in result.message
    write(root, {case.path: case.text(case.safe)})
    result = gate(root, base)
    assert result.outcome is Outcome.PASS, result.findings
    assert result.message == f"1 migration since {base[:12]} ({framework_of(case)}): no destructive operation"


def framework_of(case: Case) -> str:
    return "django" if case.id.startswith("django") else "alembic" if case.id.startswith("alembic") else "sql"


def test_a_migration_already_at_the_base_is_not_judged_again(project):
    """The base holds destructive migrations of its own (the Alembic downgrade drops a table); only what is
    new since the base counts, and a downgrade() is never judged."""
    root, base = repo(project)
    write(root, {"app/views.py": "def home():\n    return 'ok'\n"})
    result = gate(root, base)
    assert result.outcome is Outcome.PASS
    assert result.message == f"no migration added or changed since {base[:12]} (1 file changed)"


def test_alter_field_without_its_history_cannot_rule_out_narrowing(project):
    root, base = repo(project)
    write(root, {"app/migrations/0002_change.py": DJANGO.replace(
        "{body}", 'migrations.AlterField("user", "nowhere", models.CharField(max_length=10)),')})  # fmt: skip
    result = gate(root, base)
    assert kinds(result) == ["narrow-type"]
    assert "earlier definition is not in the app's earlier migrations" in result.findings[0].message


def test_alter_field_sees_the_history_of_earlier_new_migrations_too(project):
    """0002 (also new) widens the field; 0003 shortening it back below 0002's length is a narrowing."""
    root, base = repo(project)
    write(root, {
        "app/migrations/0002_wider.py": DJANGO.replace(
            "{body}", 'migrations.AlterField("user", "email", models.CharField(max_length=300)),'),
        "app/migrations/0003_back.py": DJANGO.replace(
            "{body}", 'migrations.AlterField("user", "email", models.CharField(max_length=200)),'),
    })  # fmt: skip
    result = gate(root, base)
    assert [(f.file, f.message.split(":")[0]) for f in result.findings] == [
        ("app/migrations/0003_back.py", "narrow-type")
    ]
    assert "max_length=300) to models.CharField(max_length=200)" in result.findings[0].message


AUTOGENERATED_SAFE = {
    "app/migrations/0002_auto.py": DJANGO.replace(
        "{body}",
        """migrations.AlterField(
            model_name="user",
            name="email",
            field=models.CharField(help_text="where receipts go", max_length=100, verbose_name="e-mail"),
        ),
        migrations.AlterField(model_name="user", name="nick", field=models.CharField(max_length=20, null=True)),
        migrations.AddField(
            model_name="user",
            name="created",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.CreateModel(
            name="Post",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("author", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="app.user")),
            ],
        ),
        migrations.AddIndex(model_name="post", index=models.Index(fields=["author"], name="post_author_ix")),""",
    ),
    "alembic/versions/0002_auto.py": ALEMBIC.replace(
        "{body}",
        """# ### commands auto generated by Alembic ###
    op.create_table(
        "post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_post_author_id"), "post", ["author_id"], unique=False)
    op.alter_column("user", "email", existing_type=sa.VARCHAR(length=100), type_=sa.String(length=255),
                    existing_nullable=False)
    op.alter_column("user", "nick", existing_type=sa.VARCHAR(length=20), nullable=True)
    op.add_column("user", sa.Column("bio", sa.Text(), nullable=True))
    # ### end Alembic commands ###""",
    ),
    "prisma/migrations/20240102_post/migration.sql": """-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "authorId" INTEGER NOT NULL,
    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Post_authorId_key" ON "Post"("authorId");

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id");

-- AlterTable
ALTER TABLE "User" ADD COLUMN "bio" TEXT;
""",
}


@pytest.mark.parametrize("path", sorted(AUTOGENERATED_SAFE))
def test_typical_generated_migrations_that_lose_nothing_pass(path):
    text = AUTOGENERATED_SAFE[path].replace(
        "from django.db import", "import django.db.models.deletion\nfrom django.db import"
    )
    reading = read_migration(path, text, earlier=lambda: [DJANGO_BASE])
    assert reading is not None
    assert reading.risks == ()


# --- approval: a commit trailer, a waiver ---------------------------------------------------------------


def two_destructive(root: Path) -> tuple[str, str]:
    first, second = "app/migrations/0002_drop.py", "db/migrations/0002_drop.sql"
    write(root, {
        first: DJANGO.replace("{body}", 'migrations.RemoveField(model_name="user", name="legacy"),'),
        second: "DROP TABLE teams;\n",
    })  # fmt: skip
    commit(root, "drop what is unused")
    return first, second


def test_a_trailer_approves_exactly_the_file_it_names(project):
    root, base = repo(project)
    first, second = two_destructive(root)
    git("commit", "-q", "--allow-empty", "-m", "approve", "-m", f"{TRAILER}: ./{first}", cwd=root)
    git("commit", "-q", "--allow-empty", "-m", "not a file", "-m", f"{TRAILER}: db/migrations", cwd=root)
    result = gate(root, base)
    assert result.outcome is Outcome.FAIL
    assert "1 destructive operation in 1 migration" in result.message
    assert "1 more approved" in result.message
    by_file = {f.file: f.message for f in result.findings if f.file}
    assert "approved by the Approved-Destructive-Migration trailer of commit" in by_file[first]
    assert "approved" not in by_file[second]
    git("commit", "-q", "--allow-empty", "-m", "approve", "-m", f"{TRAILER}: {second}", cwd=root)
    result = gate(root, base)
    assert result.outcome is Outcome.WARN, result.message
    assert result.message.startswith(
        f"2 destructive operations since {base[:12]}, each approved by a trailer"
    )
    assert len(result.findings) == 2, "approved operations are still listed"


def test_a_trailer_before_the_base_approves_nothing(project):
    root = project({"launch-gate.toml": "", **BASE_FILES})
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "old approval", "-m", f"{TRAILER}: db/migrations/0002_drop.sql", cwd=root)
    base = git("rev-parse", "HEAD", cwd=root).stdout.strip()
    write(root, {"db/migrations/0002_drop.sql": "DROP TABLE teams;\n"})
    commit(root, "drop")
    assert gate(root, base).outcome is Outcome.FAIL


def waiver(file: str, operation: str, expires: date) -> str:
    return (
        f'[[migrations.waivers]]\nfile = "{file}"\noperation = "{operation}"\n'
        f'reason = "teams has been unused since v2.3; backup taken"\nexpires = {expires.isoformat()}\n'
    )


def test_an_unexpired_waiver_approves_its_operation_and_an_expired_one_does_not(project):
    file = "db/migrations/0002_drop.sql"
    tomorrow, yesterday = date.today() + timedelta(days=1), date.today() - timedelta(days=1)
    root, base = repo(project, waiver(file, "drop-table", tomorrow))
    write(root, {file: "DROP TABLE teams;\n"})
    result = gate(root, base)
    assert result.outcome is Outcome.WARN
    assert f"waived until {tomorrow}: teams has been unused" in result.findings[0].message
    (root / "launch-gate.toml").write_text(waiver(file, "drop-table", yesterday), encoding="utf-8")
    result = gate(root, base)
    assert result.outcome is Outcome.FAIL
    assert "1 migration waiver expired" in result.message
    messages = [f.message for f in result.findings]
    assert any(m.startswith("drop-table: DROP TABLE teams") and "waived" not in m for m in messages)
    assert f"waiver for {file} (drop-table) expired on {yesterday} (teams has been unused" in " ".join(
        messages
    )


def test_a_waiver_approves_only_its_own_operation(project):
    file = "db/migrations/0002_change.sql"
    root, base = repo(project, waiver(file, "drop-column", date.today() + timedelta(days=30)))
    write(root, {file: "ALTER TABLE users DROP COLUMN legacy;\nTRUNCATE users;\n"})
    result = gate(root, base)
    assert result.outcome is Outcome.FAIL
    assert [f.message.split(":")[0] for f in result.findings] == ["truncate", "drop-column"]
    assert "waived" in result.findings[1].message


def test_a_waiver_naming_an_unknown_operation_is_a_configuration_error(project):
    root = project({"launch-gate.toml": waiver("x.sql", "drop-everything", date(2030, 1, 1))})
    with pytest.raises(ConfigError, match=r"migrations.*operation"):
        load_settings(cwd=root, environ={})


# --- could not verify -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "line", "reason"),
    [
        (
            "app/migrations/0002_x.py",
            "from django.db import migrations\nclass Migration(:\n",
            2,
            "not valid Python",
        ),
        (
            "db/migrations/0002_x.sql",
            "SELECT 1;\n\nALTER TABLE users DROP;\n",
            3,
            "PostgreSQL could not parse an `ALTER TABLE` statement: syntax error",
        ),
        (
            "alembic/versions/0002_x.py",
            b"def upgrade():\n    op.drop_table('\xff')\n",
            None,
            "not UTF-8 text",
        ),
    ],
    ids=["python", "sql", "not-utf8"],
)
def test_a_migration_that_cannot_be_parsed_could_not_be_verified_naming_it(project, path, text, line, reason):
    root, base = repo(project)
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = gate(root, base)
    assert result.outcome is Outcome.ERROR
    assert result.message.startswith(f"could not verify: 1 migration since {base[:12]} could not be parsed")
    [finding] = result.findings
    assert (finding.file, finding.line) == (path, line)
    assert reason in finding.message


def test_an_unparsable_migration_can_be_approved_to_pass_unchecked(project):
    root, base = repo(project)
    write(root, {"db/migrations/0002_x.sql": "\\connect app\nDROP TABLE teams;\n"})
    commit(root, "psql script")
    git("commit", "-q", "--allow-empty", "-m", "ok", "-m", f"{TRAILER}: db/migrations/0002_x.sql", cwd=root)
    result = gate(root, base)
    assert result.outcome is Outcome.WARN
    assert "(not checked; approved by the" in result.findings[0].message


def test_sql_in_another_dialect_that_sqlglot_cannot_parse_is_not_passed_unread(project):
    root, base = repo(project, '[migrations]\ndialect = "mysql"\n')
    write(root, {"db/migrate/0002_x.sql": "ALTER TABLE users FROBNICATE legacy;\n"})
    result = gate(root, base)
    assert result.outcome is Outcome.ERROR
    assert "sqlglot could not parse an `ALTER TABLE` statement" in result.findings[0].message
    assert "FROBNICATE" not in result.findings[0].message


def test_without_a_base_it_is_skipped_and_a_missing_base_could_not_be_verified(project):
    root, _ = repo(project)
    assert gate(root).outcome is Outcome.SKIP
    result = gate(root, "origin/nosuchbranch")
    assert result.outcome is Outcome.ERROR
    assert "base origin/nosuchbranch (the configured base) was not found" in result.message
    assert "`git fetch origin nosuchbranch`" in result.message


def test_a_base_outside_a_git_repository_could_not_be_verified(project):
    root = project({"launch-gate.toml": "", "db/migrations/0002.sql": "DROP TABLE x;\n"})
    result = gate(root, "main")
    assert result.outcome is Outcome.ERROR
    assert "there is no git repository here" in result.message


def test_the_pull_requests_base_is_found_in_github_actions(project):
    root, base = repo(project)
    git("update-ref", "refs/remotes/origin/main", base, cwd=root)
    write(root, {"db/migrations/0002_x.sql": "TRUNCATE users;\n"})
    result = gate(root, environ={"GITHUB_BASE_REF": "main"})
    assert result.outcome is Outcome.FAIL
    assert "since origin/main" in result.message


# --- what a push sends ------------------------------------------------------------------------------------


def test_a_push_is_judged_by_the_newest_version_of_each_migration(project):
    root, base = repo(project)
    write(root, {"db/migrations/0002_x.sql": "DROP TABLE teams;\n"})
    bad = commit(root, "drop")
    push = read_push(f"refs/heads/main {bad} refs/heads/main {base}\n")
    result = gate(root, push=push)
    assert result.outcome is Outcome.FAIL
    assert result.message.startswith("1 destructive operation in 1 migration being pushed (drop-table)")
    write(root, {"db/migrations/0002_x.sql": "CREATE VIEW team_names AS SELECT id FROM teams;\n"})
    fixed = commit(root, "keep the table")
    (root / "db/migrations/0002_x.sql").write_text("DROP TABLE teams;\n", encoding="utf-8")  # not committed
    push = read_push(f"refs/heads/main {fixed} refs/heads/main {base}\n")
    result = gate(root, push=push)
    assert result.outcome is Outcome.PASS, result.findings
    assert result.message == "1 migration being pushed (sql): no destructive operation"


def test_pre_commits_push_range_is_judged_as_commits(project):
    root, base = repo(project)
    write(root, {"db/migrations/0002_x.sql": "DROP TABLE teams;\n"})
    head = commit(root, "drop")
    git("commit", "-q", "--allow-empty", "-m", "ok", "-m", f"{TRAILER}: db/migrations/0002_x.sql", cwd=root)
    approved = git("rev-parse", "HEAD", cwd=root).stdout.strip()
    result = gate(root, environ={"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": head})
    assert result.outcome is Outcome.FAIL, "the approving commit is not in the range"
    result = gate(root, environ={"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": approved})
    assert result.outcome is Outcome.WARN


# --- the done-when, as a user runs it ---------------------------------------------------------------------


def test_one_destructive_migration_blocks_the_pre_phase_until_a_trailer_approves_it(project):
    root, base = repo(project)
    write(root, {"app/migrations/0002_drop_legacy.py": DJANGO.replace(
        "{body}", 'migrations.RemoveField(model_name="user", name="legacy"),')})  # fmt: skip
    commit(root, "drop legacy")
    env = base_env()
    blocked = run_cli(
        "check", "--phase", "pre", "--base", base, "--report-json", "report.json", cwd=root, env=env
    )
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "FAIL   migrations.destructive" in blocked.stdout
    assert "app/migrations/0002_drop_legacy.py:9: drop-column: RemoveField user.legacy" in blocked.stdout
    report = json.loads((root / "report.json").read_text(encoding="utf-8"))
    [entry] = [r for r in report["checks"] if r["id"] == CHECK]
    assert entry["findings"][0]["file"] == "app/migrations/0002_drop_legacy.py"
    assert entry["findings"][0]["line"] == 9
    others = [r for r in report["checks"] if r["id"] != CHECK and r["outcome"] in ("fail", "error")]
    assert others == [], "only the migration blocks"
    message = f"Drop User.legacy\n\n{TRAILER}: app/migrations/0002_drop_legacy.py\n"
    assert git("commit", "-q", "--allow-empty", "-m", message, cwd=root).returncode == 0
    ready = run_cli("check", "--phase", "pre", "--base", base, cwd=root, env=env)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "WARN   migrations.destructive" in ready.stdout
    assert "approved by the Approved-Destructive-Migration trailer" in ready.stdout


def test_sarif_points_at_the_migrations_file_and_line(project):
    from launch_gate.report.sarif import to_sarif
    from launch_gate.results import GateReport

    root, base = repo(project)
    write(root, {"db/migrations/0002_x.sql": "-- cleanup\nTRUNCATE users;\n"})
    report = to_sarif(GateReport("pre", (gate(root, base),)))
    [result] = report["runs"][0]["results"]
    assert result["ruleId"] == CHECK
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "db/migrations/0002_x.sql"
    assert location["region"]["startLine"] == 2


# --- paths ------------------------------------------------------------------------------------------------


def test_which_files_are_migrations():
    layout = Layout(sql_dirs=["db/migrations", "prisma/migrations"], alembic_dirs=["db/alembic/revisions"])
    assert layout.kind("shop/migrations/0003_x.py") == "python"
    assert layout.kind("alembic/versions/ab12_x.py") == "python"
    assert layout.kind("db/alembic/revisions/ab12_x.py") == "python"
    assert layout.kind("db/migrations/0002.sql") == "sql"
    assert layout.kind("prisma/migrations/2024_x/migration.sql") == "sql"
    not_migrations = (
        *("shop/migrations/__init__.py", "shop/models.py", "docs/schema.sql", "db/migrations/1.down.sql"),
        *("db/migrations/U2__undo.sql", "db/migrations/revert/x.sql", "shop/migrations/README.md"),
    )
    for not_one in not_migrations:
        assert layout.kind(not_one) is None, not_one
    chosen = Layout(paths=["schema/changes/*.sql"], exclude=["schema/changes/seed*"])
    assert chosen.kind("schema/changes/001.sql") == "sql"
    assert chosen.kind("schema/changes/seed.sql") is None
    assert chosen.kind("shop/migrations/0003_x.py") is None


def test_alembic_ini_names_its_version_folders():
    ini = (
        "[alembic]\nscript_location = %(here)s/db/alembic\nversion_locations = %(here)s/extra pkg:versions\n"
    )
    assert alembic_dirs(ini) == ["db/alembic/versions", "extra"]
    assert alembic_dirs("not an ini [") == []


def test_a_python_module_in_a_migrations_folder_that_is_no_migration_is_left_out(project):
    root, base = repo(project)
    write(root, {"migrations/env.py": "from alembic import context\ncontext.run_migrations()\n"})
    result = gate(root, base)
    assert result.outcome is Outcome.PASS
    assert result.message.startswith("no migration added or changed")


# --- properties: never a traceback; safe twins never produce a finding -------------------------------------

FRAGMENTS = [
    "ALTER TABLE ", "DROP ", "TABLE ", "COLUMN ", "users", " t", ";", "\n", " ", "(", ")", "'", '"', "$$", "--",
    "/*", "*/", "RENAME ", "TO ", "SET NOT NULL", "TYPE varchar(", "10", "CREATE INDEX ", "CONCURRENTLY ",
    "ON ", "DELETE FROM ", "UPDATE ", " SET x = 1", "WHERE ", "TRUNCATE ", "NOT VALID", "ADD CONSTRAINT ",
    "FOREIGN KEY (a) REFERENCES b (id)", "migrations.", "RemoveField(", "op.", "drop_column(", "execute(",
    "class Migration(migrations.Migration):\n    operations = [", "def upgrade():\n    ", "]", ",", "=", "é",
    "\\", "\x00", "`", "[", "{", "}", "DROP TABLE teams;\n", "ALTER TABLE users DROP COLUMN a;\n",
    "-- migrate:down\n", '"""', "\t",
]  # fmt: skip
PATHS = ["app/migrations/0002_x.py", "alembic/versions/0002_x.py", "db/migrations/0002.sql"]


@st.composite
def mutated_case(draw) -> tuple[str, str, str]:
    """Several fixture operations of one framework and dialect (destructive or safe) in one migration, with
    fragments spliced in or text cut out: near-valid text that reaches every handler of each reader."""
    group = draw(st.sampled_from(GROUPS))
    cases = draw(st.lists(st.sampled_from(group), min_size=1, max_size=10))
    joiner = {"django": "\n        ", "alembic": "\n    ", "sql": "\n"}[framework_of(cases[0])]
    body = joiner.join(draw(st.sampled_from([c.destructive, c.safe])) for c in cases)
    text = cases[0].text(body)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 10))
        text = text[:at] + draw(st.sampled_from(["", *FRAGMENTS])) + text[at + cut :]
    return cases[0].path, text, cases[0].dialect


ANY_MIGRATION = st.one_of(
    st.tuples(st.sampled_from(PATHS), st.text(max_size=200), st.sampled_from(["postgresql", "mysql"])),
    st.tuples(
        st.sampled_from(PATHS),
        st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
        st.sampled_from(["postgresql", "mysql", "sqlite", "tsql"]),
    ),
    *[mutated_case()] * 4,  # most examples: near-valid migrations
)


@settings(max_examples=50, deadline=None)
@given(migration=ANY_MIGRATION)
def test_reading_any_text_gives_a_reading_or_names_what_is_unreadable(migration):
    path, text, dialect = migration
    try:
        reading = read_migration(path, text, dialect, lambda: [DJANGO_BASE])
    except Unreadable as exc:
        reason = str(exc)
        assert reason, "an unreadable migration says why"
        return
    for risk in reading.risks if reading else ():
        assert risk.kind in KINDS
        assert 1 <= risk.line <= text.count("\n") + 1
        assert risk.message.startswith(risk.kind + ": ")


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("migrations")
    write(root, {"launch-gate.toml": "", **BASE_FILES})
    git("init", "-q", cwd=root)
    return root, commit(root, "deployed")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(migration=ANY_MIGRATION)
def test_the_check_never_crashes_whatever_a_migration_holds(shared_repo, migration):
    root, base = shared_repo
    path, text, dialect = migration
    (root / "launch-gate.toml").write_text(f'[migrations]\ndialect = "{dialect}"\n', encoding="utf-8")
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        result = gate(root, base)
    finally:
        target.unlink()
    assert "crashed" not in result.message
    assert "Traceback" not in result.message
    assert result.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.ERROR)
    if result.outcome is Outcome.ERROR:
        assert result.findings[0].file == path


def combined(cases: list[Case], attribute: str) -> tuple[str, str]:
    """The bodies of several cases of one framework in one migration, with its path."""
    first = cases[0]
    joiner = {"django": "\n        ", "alembic": "\n    ", "sql": "\n"}[framework_of(first)]
    body = joiner.join(getattr(c, attribute) for c in cases)
    return first.path, first.text(body)


FRAMEWORKS = {
    "django": DJANGO_CASES,
    "alembic": ALEMBIC_CASES,
    "sql": [c for c in SQL_CASES if c.dialect == "postgresql" and "migrate:down" not in c.destructive],
}


@settings(max_examples=50, deadline=None)
@given(data=st.data(), framework=st.sampled_from(sorted(FRAMEWORKS)))
def test_safe_twins_together_never_produce_a_finding_and_destructive_ones_each_do(data, framework):
    """Differential: any mix of safe twins is clean; in any mix of destructive operations, each one is found
    on a line of its own."""
    cases = data.draw(st.lists(st.sampled_from(FRAMEWORKS[framework]), min_size=1, max_size=6))
    path, text = combined(cases, "safe")
    reading = read_migration(path, text, "postgresql", lambda: [DJANGO_BASE])
    assert reading is not None
    assert reading.risks == ()
    path, text = combined(cases, "destructive")
    reading = read_migration(path, text, "postgresql", lambda: [DJANGO_BASE])
    assert reading is not None
    lines = text.splitlines()
    for case in cases:
        needle = case.needle or case.destructive[:20]
        at = {n for n, line in enumerate(lines, 1) if needle.splitlines()[0] in line}
        assert at & {r.line for r in reading.risks}, (case.id, reading.risks)


@settings(max_examples=30, deadline=None)
@given(name=st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12))
def test_operations_on_a_table_the_migration_creates_are_harmless(name):
    text = (
        f"CREATE TABLE {name}_x (id bigint, email varchar(100));\n"
        f"CREATE INDEX {name}_ix ON {name}_x (email);\n"
        f"ALTER TABLE {name}_x ALTER COLUMN email SET NOT NULL;\n"
        f"ALTER TABLE {name}_x DROP COLUMN email;\n"
    )
    reading = read_migration("db/migrations/1.sql", text)
    assert reading is not None
    assert reading.risks == ()
