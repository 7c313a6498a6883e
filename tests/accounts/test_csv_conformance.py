"""CSV imports: a team name longer than its column is a clear error on every database (never a 500 on
PostgreSQL nor a value stored whole on SQLite), and the dialect is read from the data, not the header alone, so
escaped quotes are understood."""
from __future__ import annotations

from lms.accounts import services as accounts


def test_a_team_name_over_the_column_length_is_a_clear_error_and_nothing_is_written(session):
    long_name = "Equipo " + "x" * 200
    text = f"email,name,role,team\nuno@example.com,Uno,agent,Equipo corto\ndos@example.com,Dos,agent,{long_name}\n"
    result = accounts.import_users_csv(session, text)
    assert result.rolled_back and result.imported == 0
    [(line, message)] = result.errors
    assert line == 3 and "200 caracteres" in message
    assert accounts.find_user_by_email(session, "uno@example.com") is None
    assert accounts.find_team_by_name(session, long_name) is None


def test_escaped_quotes_are_read_with_the_dialect_of_the_data(session):
    text = ('email;name;role;team\n'
            'ana@example.com;"Pérez; ""Anita"" Ana";agent;"Equipo ""Norte"""\n'
            'beto@example.com;Beto;agent;Equipo Sur\n')
    result = accounts.import_users_csv(session, text)
    assert result.errors == [] and result.imported == 2
    ana = accounts.find_user_by_email(session, "ana@example.com")
    assert ana.name == 'Pérez; "Anita" Ana'
    assert accounts.find_team_by_name(session, 'Equipo "Norte"') is not None

    backslashed = 'email,name,role\ncarla@example.com,"Carla \\"la jefa\\" Ruiz",agent\n'
    result = accounts.import_users_csv(session, backslashed)
    assert result.errors == [], result.errors
    assert accounts.find_user_by_email(session, "carla@example.com").name == 'Carla "la jefa" Ruiz'
