"""The password step carries bcrypt hashes (as $2a$), never plaintext, idempotently, on the real server."""

from __future__ import annotations

import bcrypt
import pytest

from cogito_migrate import passwords

# Hand-made Backstage participants: (id, what the app stored, the password the person types or None).
# Source hashes use cost 4 to keep the suite fast; the step carries whatever cost it finds.
PLAIN_2B = "correct horse battery staple"
PLAIN_2A = "pässwörd-ünïcode"
PLAIN_2Y = "php-made"
PLAIN_DOUBLE = "twice-hashed"
PLAIN_LONG = "x" * 80 + "tail"  # longer than bcrypt's 72 bytes


def _hash(password: str, prefix: bytes = b"2b") -> str:
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(rounds=4, prefix=prefix)).decode()


@pytest.fixture(scope="module")
def source_rows() -> list[tuple[int, str, str | None, str]]:
    """(participant id, stored value, known plaintext, expected shape)."""
    hash_2b = _hash(PLAIN_2B)
    inner = _hash(PLAIN_DOUBLE)
    return [
        (1, hash_2b, PLAIN_2B, "bcrypt_2b"),
        (2, _hash(PLAIN_2A, b"2a"), PLAIN_2A, "bcrypt_2a"),
        (3, "$2y$" + _hash(PLAIN_2Y)[4:], PLAIN_2Y, "bcrypt_2y"),
        (4, "$2x$" + _hash("old-php")[4:], None, "bcrypt_other"),
        (5, "hashedpass", "hashedpass", "plaintext"),
        (6, "", None, "empty"),
        (7, "   ", None, "empty"),
        (8, "Sommer2024!", "Sommer2024!", "plaintext"),
        # A dead code path hashed the hash: it is bcrypt-shaped, carried, and verifies the inner hash only.
        (9, _hash(inner), inner, "bcrypt_2b"),
        (2**40, PLAIN_LONG, PLAIN_LONG, "plaintext"),
        (11, hash_2b[:-1], hash_2b[:-1], "plaintext"),  # a truncated hash is not a hash
    ]


@pytest.fixture
def backstage(make_database, connect, source_rows):
    """A fresh database with a hand-made public.participants."""
    name = make_database("run_passwords")
    with connect(name) as conn:
        conn.execute(
            "create table public.participants (id bigint primary key, name text not null, "
            "email text not null unique, password text not null, created_at timestamptz default now())"
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "insert into public.participants (id, name, email, password) values (%s, %s, %s, %s)",
                [(pid, f"person {pid}", f"p{pid}@example.org", stored) for pid, stored, _, _ in source_rows],
            )
    return name


def carried_rows(connect, name: str) -> dict[int, tuple]:
    with connect(name) as conn:
        rows = conn.execute(
            "select participant_id, password_hash, password_status, password_shape, xmin::text "
            "from backstage_restricted.carried_passwords"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def table_text(connect, name: str) -> str:
    with connect(name) as conn:
        return "\n".join(
            str(row[0]) for row in conn.execute("select c::text from backstage_restricted.carried_passwords c")
        )


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("$2a$10$" + "a" * 53, "bcrypt_2a"),
        ("$2b$12$" + "./" * 26 + "Z", "bcrypt_2b"),
        ("$2y$10$" + "9" * 53, "bcrypt_2y"),
        ("$2$10$" + "a" * 53, "bcrypt_other"),
        ("$2x$10$" + "a" * 53, "bcrypt_other"),
        ("$2b$10$" + "a" * 52, "plaintext"),
        ("$2b$10$" + "a" * 53 + "\n", "plaintext"),
        ("hashedpass", "plaintext"),
        ("", "empty"),
        (" \t", "empty"),
        (None, "empty"),
    ],
)
def test_classify(value, shape):
    assert passwords.classify(value) == shape


def test_carried_hashes_verify_and_plaintext_never_lands(backstage, connect, source_rows):
    summary = passwords.carry_passwords(backstage)
    carried = carried_rows(connect, backstage)
    assert set(carried) == {row[0] for row in source_rows}
    assert summary.inserted == len(source_rows) and summary.total == len(source_rows)
    for pid, stored, plaintext, shape in source_rows:
        password_hash, status, carried_shape, _ = carried[pid]
        assert carried_shape == shape, pid
        if shape in ("bcrypt_2a", "bcrypt_2b", "bcrypt_2y"):
            assert password_hash.startswith("$2a$") and password_hash[4:] == stored[4:]
            assert bcrypt.checkpw(plaintext.encode(), password_hash.encode()), pid
            assert status == ("carried" if shape == "bcrypt_2a" else "carried_rewritten")
        else:
            assert password_hash is None and status == "reset_required", pid
    # The $2b$ source still verifies under $2a$, and a wrong password still fails.
    assert not bcrypt.checkpw(b"wrong", carried[1][0].encode())
    text = table_text(connect, backstage)
    for _, _, plaintext, shape in source_rows:
        if shape == "plaintext":
            assert plaintext not in text


def test_rerun_with_unchanged_source_changes_nothing(backstage, connect):
    passwords.carry_passwords(backstage)
    before = carried_rows(connect, backstage)
    summary = passwords.carry_passwords(backstage)
    assert (summary.inserted, summary.updated, summary.deleted) == (0, 0, 0)
    assert carried_rows(connect, backstage) == before  # same values and same row versions (xmin)


def test_source_changes_are_followed(backstage, connect):
    passwords.carry_passwords(backstage)
    new_hash = _hash("new secret")
    with connect(backstage) as conn:
        conn.execute("update public.participants set password = %s where id = 5", (new_hash,))
        conn.execute("delete from public.participants where id = 6")
    summary = passwords.carry_passwords(backstage)
    assert (summary.inserted, summary.updated, summary.deleted) == (0, 1, 1)
    carried = carried_rows(connect, backstage)
    assert 6 not in carried
    assert carried[5][:3] == ("$2a$" + new_hash[4:], "carried_rewritten", "bcrypt_2b")


def test_the_step_streams_people_in_batches_and_carries_the_same_rows(backstage, connect, source_rows,
                                                                       monkeypatch):
    """People are read and carried BATCH_ROWS at a time (memory flat in their number): batches of three carry
    exactly what one batch does, and no batch is larger."""
    sizes: list[int] = []
    carry_all = passwords.carry_all

    def counted(batch, **options):
        sizes.append(len(batch))
        return carry_all(batch, **options)

    monkeypatch.setattr(passwords, "BATCH_ROWS", 3)
    monkeypatch.setattr(passwords, "carry_all", counted)
    summary = passwords.carry_passwords(backstage)
    assert len(source_rows) > 6 and max(sizes) == 3 and sum(sizes) == len(source_rows)
    assert summary.inserted == len(source_rows) and sum(summary.statuses.values()) == len(source_rows)
    in_batches = carried_rows(connect, backstage)
    monkeypatch.setattr(passwords, "BATCH_ROWS", 5_000)
    again = passwords.carry_passwords(backstage)
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)
    assert carried_rows(connect, backstage) == in_batches


def test_option_hashes_plaintext_that_verifies_and_keeps_it_on_rerun(backstage, connect, source_rows):
    summary = passwords.carry_passwords(backstage, hash_plaintexts=True)
    carried = carried_rows(connect, backstage)
    plaintext_rows = [row for row in source_rows if row[3] == "plaintext"]
    assert summary.statuses["hashed_from_plaintext"] == len(plaintext_rows)
    for pid, _, plaintext, _ in plaintext_rows:
        password_hash, status, _, _ = carried[pid]
        assert status == "hashed_from_plaintext"
        assert password_hash.startswith("$2a$10$")
        assert bcrypt.checkpw(plaintext.encode()[:72], password_hash.encode())
    # Empty passwords are never hashed: a blank password must not become valid.
    assert carried[6][:2] == (None, "reset_required") and carried[7][:2] == (None, "reset_required")
    assert carried[4][:2] == (None, "reset_required")  # $2x$: no safe rewrite
    for _, _, plaintext, shape in plaintext_rows:
        assert plaintext not in table_text(connect, backstage)
    # bcrypt salts are random, yet a re-run keeps the verified hashes: nothing changes.
    again = passwords.carry_passwords(backstage, hash_plaintexts=True)
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)
    assert carried_rows(connect, backstage) == carried
    # Without the option the hashed plaintexts go back to a required reset.
    default = passwords.carry_passwords(backstage)
    assert default.updated == len(plaintext_rows)
    assert carried_rows(connect, backstage)[5][:2] == (None, "reset_required")


def test_table_refuses_anything_but_bcrypt_2a(backstage, connect):
    passwords.carry_passwords(backstage)
    with connect(backstage) as conn, pytest.raises(Exception, match="carried_passwords_hash_is_bcrypt_2a"):
        conn.execute(
            "insert into backstage_restricted.carried_passwords values (99, 'hashedpass', 'carried', 'plaintext')"
        )


def test_errors_name_no_password_or_hash(backstage, connect, source_rows, capsys):
    passwords.carry_passwords(backstage)
    # Break the table so the write fails: the database's DETAIL would show a failing row.
    with connect(backstage) as conn:
        conn.execute("delete from backstage_restricted.carried_passwords")
        conn.execute("alter table backstage_restricted.carried_passwords add column must_be_set text not null")
    with pytest.raises(passwords.PasswordStepError) as failure:
        passwords.carry_passwords(backstage, hash_plaintexts=True)
    message = str(failure.value)
    assert "must_be_set" in message
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    output = capsys.readouterr()
    for _, stored, plaintext, _ in source_rows:
        for secret in (stored.strip(), plaintext):
            if secret:
                assert secret not in message and secret not in output.out + output.err
    assert "$2" not in message
    # Nothing was written: the step is one transaction.
    assert carried_rows(connect, backstage) == {}


def test_missing_source_table_is_a_clear_error(make_database):
    with pytest.raises(passwords.PasswordStepError, match="public.participants does not exist"):
        passwords.carry_passwords(make_database("run_passwords_empty"))


def test_staging_view_exposes_the_carried_rows(backstage, connect, dbt, source_rows):
    passwords.carry_passwords(backstage)
    dbt("build", "--select", "stg_migration__carried_passwords", "source:migration", database_name=backstage)
    with connect(backstage) as conn:
        view = conn.execute(
            "select participant_id, password_hash, password_status, password_shape, client_id, source_schema "
            "from backstage_restricted.stg_migration__carried_passwords"
        ).fetchall()
    carried = carried_rows(connect, backstage)
    assert {row[0]: row[1:4] for row in view} == {pid: values[:3] for pid, values in carried.items()}
    assert {(row[4], row[5]) for row in view} == {(None, "public")}


def test_staging_view_builds_before_the_step_ran(make_database, connect, dbt):
    name = make_database("run_passwords_nostep")
    dbt("build", "--select", "stg_migration__carried_passwords", database_name=name)
    with connect(name) as conn:
        assert conn.execute(
            "select count(*) from backstage_restricted.stg_migration__carried_passwords"
        ).fetchone() == (0,)


# -- against the simulator's Backstage ------------------------------------------------------------------------------
BCRYPT_SHAPES = {"bcrypt_2b", "bcrypt_2a"}


@pytest.fixture(scope="module")
def simulated(make_database) -> tuple[str, dict]:
    from backstage_simulator import simulate

    name = make_database("run_passwords_sim")
    return name, simulate(name, scale=0.05, seed=11)


def test_simulated_passwords_are_carried_and_verify(simulated, connect):
    name, manifest = simulated
    summary = passwords.carry_passwords(name)
    carried = carried_rows(connect, name)
    known = {entry["participant_id"]: entry for entry in manifest["passwords"]}
    assert set(carried) == set(known) and summary.total == len(known)
    assert {entry["shape"] for entry in known.values()} >= BCRYPT_SHAPES | {"plaintext", "empty", "double_bcrypt"}
    with connect(name) as conn:
        stored = dict(conn.execute("select id, password from public.participants").fetchall())
    for pid, entry in known.items():
        password_hash, status, shape, _ = carried[pid]
        if entry["shape"] in BCRYPT_SHAPES:
            assert password_hash.startswith("$2a$10$"), pid
            assert bcrypt.checkpw(entry["plaintext"].encode(), password_hash.encode()), pid
            assert status == ("carried_rewritten" if stored[pid].startswith("$2b$") else "carried")
        elif entry["shape"] == "double_bcrypt":
            # Indistinguishable from a normal hash: carried as bcrypt, and (as in Backstage) the typed password
            # does not verify against it. Documented; the person resets.
            assert shape == "bcrypt_2b" and password_hash.startswith("$2a$")
            assert not bcrypt.checkpw(entry["plaintext"].encode(), password_hash.encode())
        else:
            assert (password_hash, status) == (None, "reset_required"), pid
            assert shape == ("empty" if entry["shape"] == "empty" else "plaintext")
    text = table_text(connect, name)
    for entry in known.values():
        if entry["shape"] not in BCRYPT_SHAPES | {"double_bcrypt"} and entry["plaintext"]:
            assert entry["plaintext"] not in text


def test_simulated_plaintexts_hashed_on_request(simulated, connect):
    name, manifest = simulated
    summary = passwords.carry_passwords(name, hash_plaintexts=True)
    carried = carried_rows(connect, name)
    plaintexts = [e for e in manifest["passwords"] if e["shape"] in ("plaintext", "plaintext_hashedpass")]
    assert plaintexts and summary.statuses["hashed_from_plaintext"] == len(plaintexts)
    for entry in plaintexts:
        password_hash, status, _, _ = carried[entry["participant_id"]]
        assert status == "hashed_from_plaintext"
        assert bcrypt.checkpw(entry["plaintext"].encode(), password_hash.encode())
    text = table_text(connect, name)
    for secret in manifest["secrets"]:
        assert secret not in text
