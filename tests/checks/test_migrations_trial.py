"""The trial findings on `migrations.destructive` (issue #15): no statement text in a message (a password in a
migration never reaches a report), destructive operations the readers used to miss (DML inside WITH, IF NOT
EXISTS, schemas, SET DEFAULT before SET NOT NULL, MySQL text sizes, monorepo folders, Alembic helpers and
aliases, Django index builds and aliases), and placeholders and a byte order mark that are no reason to fail."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate.migrations import Layout, Unreadable, read_migration

DJANGO_BASE = """from django.db import migrations, models
class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel(name="Order", fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("code", models.CharField(max_length=100)),
            ("legacy", models.CharField(max_length=20, null=True)),
        ]),
    ]
"""


def kinds(name: str, text: str, dialect: str = "postgresql") -> list[str]:
    reading = read_migration(name, text, dialect, lambda: [DJANGO_BASE])
    assert reading is not None
    return [r.kind for r in reading.risks]


def sql(text: str, dialect: str = "postgresql") -> list[str]:
    return kinds("db/migrations/1.sql", text, dialect)


# --- 1. never a literal in a message -------------------------------------------------------------------------

SECRET = st.text(alphabet=string.ascii_letters + string.digits + "!#%&*+-/=?^_~", min_size=10, max_size=20)
SQL_SHAPES = [
    ("postgresql", "ALTER USER app WITH PASSWORD '{s}';"),
    ("postgresql", "CREATE USER x IDENTIFIED BY '{s}';"),  # not PostgreSQL: unparsable
    ("postgresql", "UPDATE users SET token = '{s}';"),
    ("postgresql", "INSERT INTO t VALUES ('{s}'); DROP TABLE t2;"),
    ("postgresql", "SELECT $q${s}$q$ FROM;"),
    ("postgresql", "ALTER TABLE users ADD COLUMN k text NOT NULL DEFAULT '{s}', FROBNICATE;"),
    ("postgresql", "COMMENT ON TABLE users IS '{s}"),  # an unclosed string
    ("mysql", "ALTER USER 'app'@'%' IDENTIFIED BY '{s}';"),
    ("mysql", 'CREATE USER x IDENTIFIED BY "{s}" FROBNICATE;'),
    ("mysql", "ALTER TABLE users FROBNICATE '{s}';"),
    ("mysql", "UPDATE users SET token = '{s}' LIMIT;"),
    ("mysql", "RENAME TABLE a TO b, '{s}' TO d;"),
    ("tsql", "EXEC sp_rename '{s}', 'users';"),
]
PY_SHAPES = [
    "from django.db import migrations\nclass Migration(migrations.Migration):\n"
    "    operations = [migrations.RunSQL(build('{s}'))]\n",
    "from django.db import migrations\nclass Migration(migrations.Migration):\n"
    "    operations = [migrations.RunSQL(\"CREATE USER x IDENTIFIED BY '{s}'\")]\n",
    "from django.db import migrations, models\nclass Migration(migrations.Migration):\n"
    "    operations = [migrations.AlterField('order', 'code', models.CharField(max_length=5, default='{s}'))]\n",
    "from alembic import op\ndef upgrade():\n    op.execute(make('{s}'))\n",
    "from alembic import op\ndef upgrade():\n    op.execute(\"ALTER USER x PASSWORD '{s}' BOGUS\")\n",
    "from alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n"
    "    op.alter_column('t', 'c', type_=sa.Enum('{s}'))\n",
    "x = '{s}\n",  # a Python syntax error inside a string
]


def said(name: str, text: str, dialect: str) -> str:
    try:
        reading = read_migration(name, text, dialect, lambda: [DJANGO_BASE])
    except Unreadable as exc:
        return str(exc)
    return " ".join(r.message for r in reading.risks) if reading else ""


@settings(max_examples=50, deadline=None)
@given(secret=SECRET, shape=st.sampled_from(SQL_SHAPES))
def test_no_quoted_literal_of_a_sql_migration_reaches_a_message(secret, shape):
    dialect, template = shape
    assert secret not in said("db/migrations/1.sql", template.replace("{s}", secret), dialect)


@settings(max_examples=50, deadline=None)
@given(secret=SECRET, template=st.sampled_from(PY_SHAPES), django=st.booleans())
def test_no_string_of_a_python_migration_reaches_a_message(secret, template, django):
    name = "shop/migrations/0002_x.py" if django else "alembic/versions/0002_x.py"
    assert secret not in said(name, template.replace("{s}", secret.replace("'", "")), "postgresql")


def test_the_reviewers_leak_names_the_statement_kind_only():
    message = said("db/migrations/1.sql", "CREATE USER x IDENTIFIED BY 'Zq9!vR2#pL7wXe4M';", "postgresql")
    assert "Zq9" not in message
    assert "`CREATE USER` statement" in message
    assert sql("ALTER USER 'app'@'%' IDENTIFIED BY 'Zq9!vR2#pL7wXe4M';", "mysql") == []


# --- 2. false passes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "WITH gone AS (DELETE FROM users RETURNING id) INSERT INTO audit SELECT id FROM gone;",
            ["delete-all"],
        ),
        ("WITH d AS (UPDATE users SET a = 1 RETURNING *) SELECT count(*) FROM d;", ["update-all"]),
        ("WITH d AS (DELETE FROM users WHERE id < 5 RETURNING *) SELECT 1 FROM d;", []),
        ("EXPLAIN ANALYZE DELETE FROM users;", ["delete-all"]),
    ],
)
def test_dml_inside_a_with_query_is_seen(text, expected):
    assert sql(text) == expected


def test_dml_in_a_cte_in_other_dialects_is_seen():
    assert sql("WITH c AS (SELECT * FROM t) DELETE FROM c;", "tsql") == ["delete-all"]


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_create_table_if_not_exists_may_be_an_existing_table(dialect):
    text = "CREATE TABLE IF NOT EXISTS users (id bigint);\nALTER TABLE users DROP COLUMN legacy;\nTRUNCATE users;"
    assert sql(text, dialect) == ["drop-column", "truncate"]
    assert sql(text.replace(" IF NOT EXISTS", ""), dialect) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CREATE TABLE staging.users (id int);\nDROP TABLE public.users;", ["drop-table"]),
        ("CREATE TABLE audit.users (id int);\nDROP TABLE users;", ["drop-table"]),
        ("CREATE TABLE users (id int);\nDROP TABLE public.users;", []),
        ("SET search_path TO audit;\nCREATE TABLE users (id int);\nDROP TABLE public.users;", ["drop-table"]),
        ('CREATE TABLE "Users" (id int);\nDROP TABLE users;', ["drop-table"]),
    ],
)
def test_a_table_is_its_schema_and_name(text, expected):
    assert sql(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ALTER TABLE users ALTER COLUMN plan SET DEFAULT 'free';\nALTER TABLE users ALTER COLUMN plan SET NOT NULL;",
         ["not-null"]),
        ("ALTER TABLE users ALTER COLUMN plan SET DEFAULT 'free', ALTER COLUMN plan SET NOT NULL;", ["not-null"]),
        ("UPDATE users SET plan = 'free' WHERE id = 1;\nALTER TABLE users ALTER COLUMN plan SET NOT NULL;",
         ["not-null"]),
        ("UPDATE users SET plan = 'free' WHERE plan IS NULL;\nALTER TABLE users ALTER COLUMN plan SET NOT NULL;", []),
        ("ALTER TABLE users ADD CONSTRAINT other CHECK (x > 0) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT other;"
         "\nALTER TABLE users ALTER COLUMN plan SET NOT NULL;", ["not-null"]),
        ("ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';\nALTER TABLE users ALTER COLUMN plan SET NOT NULL;",
         []),
    ],
)  # fmt: skip
def test_a_default_is_no_backfill(text, expected):
    assert sql(text) == expected


def test_alembic_server_default_does_not_make_not_null_safe():
    text = (
        "from alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n"
        '    op.alter_column("users", "plan", existing_type=sa.String(20), nullable=False, server_default="x")\n'
    )
    assert kinds("alembic/versions/b1.py", text) == ["not-null"]


@pytest.mark.parametrize(
    "statement", ["MODIFY COLUMN body TINYTEXT", "MODIFY COLUMN body TEXT(100)", "MODIFY COLUMN body TEXT"]
)
def test_mysql_text_types_have_a_size(statement):
    assert sql(f"ALTER TABLE posts {statement};", "mysql") == ["narrow-type"]
    assert sql("ALTER TABLE posts MODIFY COLUMN body LONGTEXT;", "mysql") == []


def test_sql_folders_are_found_anywhere_but_in_dependencies():
    layout = Layout(sql_dirs=["migrations", "db/migrate", "prisma/migrations", "/root-only", "sql/*/changes"])
    assert layout.kind("apps/api/prisma/migrations/2024_drop/migration.sql") == "sql"
    assert layout.kind("services/x/db/migrate/001.sql") == "sql"
    assert layout.kind("apps/api/migrations/001.sql") == "sql"
    assert layout.kind("root-only/1.sql") == "sql"
    assert layout.kind("x/root-only/1.sql") is None
    assert layout.kind("sql/billing/changes/1.sql") == "sql"
    assert layout.kind("node_modules/pkg/migrations/1.sql") is None
    assert layout.kind(".venv/lib/site-packages/django/contrib/auth/migrations/0001_initial.py") is None


def test_a_down_file_is_a_rollback_only_beside_its_up_twin():
    there = {"db/migrations/0007_users_up.sql"}
    layout = Layout(sql_dirs=["db/migrations"], exists=there.__contains__)
    assert layout.kind("db/migrations/0006_wind_down.sql") == "sql"
    assert layout.kind("db/migrations/0007_users_down.sql") is None
    assert layout.rollback("db/migrations/0007_users_down.sql")


ALEMBIC_HELPERS = [
    "from alembic import op as o\ndef upgrade():\n    o.drop_column('users', 'legacy')\n",
    "import alembic.op\ndef upgrade():\n    alembic.op.drop_column('users', 'legacy')\n",
    "from alembic import op\ndef upgrade():\n"
    "    with op.batch_alter_table('users') as b:\n        b.drop_column('x')\n",
    "from alembic import op\ndef upgrade():\n    conn = op.get_bind()\n    conn.execute('DROP TABLE payments')\n",
    "from alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n"
    "    op.get_bind().execute(sa.text('DROP TABLE payments'))\n",
    "from alembic import op\ndef upgrade(engine_name):\n    globals()['upgrade_%s' % engine_name]()\n"
    "def upgrade_engine1():\n    op.drop_table('payments')\n",
    "from alembic import op\ndef _cleanup():\n    op.drop_table('payments')\ndef upgrade():\n    _cleanup()\n",
    "from alembic import op\ndef upgrade():\n"
    "    op.create_table('users', if_not_exists=True)\n    op.drop_column('users', 'x')\n",
]


@pytest.mark.parametrize("text", ALEMBIC_HELPERS)
def test_alembic_helpers_and_aliases_are_read(text):
    assert len(kinds("alembic/versions/b2.py", text)) == 1


DJANGO = "{imports}\nclass Migration(migrations.Migration):\n    operations = [\n        {op}\n    ]\n"


@pytest.mark.parametrize(
    ("imports", "op", "kind"),
    [
        ("from django.db import migrations, models", 'migrations.AddField("order", "ref", models.CharField('
         "max_length=10, null=True, unique=True)),", "blocking-index"),
        ("from django.db import migrations, models", 'migrations.AddField("order", "ref", models.CharField('
         "max_length=10, null=True, db_index=True)),", "blocking-index"),
        ("from django.db import migrations, models", 'migrations.AlterField("order", "code", models.CharField('
         "max_length=100, unique=True)),", "blocking-index"),
        ("from django.db import migrations", 'migrations.AlterUniqueTogether("order", {("code", "legacy")}),',
         "blocking-index"),
        ("from django.db import migrations", 'migrations.AlterIndexTogether("order", {("code", "legacy")}),',
         "blocking-index"),
        ("from django.db import migrations as m\nmigrations = m", 'm.RemoveField("order", "legacy"),', "drop-column"),
        ("import django.db.migrations\nfrom django.db import migrations", 'django.db.migrations.RemoveField("order", '
         '"legacy"),', "drop-column"),
        ("from django.db import migrations\nfrom django.db.migrations.operations import RemoveField as RF",
         'RF("order", "legacy"),', "drop-column"),
        ("from django.db import migrations, models", 'migrations.AlterField("order", "legacy", models.CharField('
         "max_length=20, default=None)),", "not-null"),
    ],
)  # fmt: skip
def test_django_index_builds_and_aliases_are_seen(imports, op, kind):
    assert kinds("shop/migrations/0002_x.py", DJANGO.format(imports=imports, op=op)) == [kind]


# --- 3. no false fail ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dialect"),
    [
        ("UPDATE users SET plan = %s WHERE plan IS NULL;", "postgresql"),
        ("UPDATE users SET plan = %(p)s WHERE id = :id;", "postgresql"),
        ("UPDATE users SET plan = $1 WHERE id = ?;", "postgresql"),
        ("UPDATE users SET plan = %s WHERE id = %(id)s;", "mysql"),
        ("\ufeffCREATE INDEX CONCURRENTLY i ON users (email);", "postgresql"),
    ],
)
def test_placeholders_and_a_byte_order_mark_parse(text, dialect):
    assert sql(text, dialect) == []


def test_placeholders_do_not_hide_a_missing_where():
    assert sql("UPDATE users SET plan = %s;") == ["update-all"]


def test_a_byte_order_mark_in_python_and_sqlalchemy_bindparams_parse():
    text = (
        "\ufefffrom alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n"
        '    op.execute(sa.text("UPDATE users SET plan = :p WHERE plan IS NULL").bindparams(p="free"))\n'
    )
    assert kinds("alembic/versions/b3.py", text) == []
