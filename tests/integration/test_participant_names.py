"""The `participants` message names people (issue 16): a reviewer by its account, the applicant
by the case's applicant name — what its connection said only when the case has none — while
the audit log keeps what the connection said."""
import json
import unittest

import websocket

from kanyan import Server


def connect(server, user=None):
    headers = ["Cookie: " + server.login(user)] if user else []
    return websocket.create_connection(server.ws_url, timeout=30, header=headers)


def participants_with(ws, role, limit=30):
    """The first `participants` list that has someone of `role` in it."""
    for _ in range(limit):
        msg = json.loads(ws.recv())
        if msg["type"] == "participants" and any(p["role"] == role for p in msg["participants"]):
            return msg["participants"]
    raise AssertionError(f"no participants message with an {role}")


class ParticipantNamesTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()

    def tearDown(self):
        self.server.stop()

    def names(self, ref, token):
        owner = connect(self.server, "owner")
        owner.send(json.dumps({"type": "join", "case": ref, "role": "reviewer"}))
        applicant = connect(self.server)
        applicant.send(json.dumps({"type": "join", "case": ref, "role": "applicant", "token": token,
                                   "name": "whoever I say"}))
        people = participants_with(owner, "applicant")
        owner.close()
        applicant.close()
        return {p["role"]: p["name"] for p in people}

    def test_the_applicant_is_named_by_the_case(self):
        case = self.server.add_case("NAMES-1", extra=("--applicant", "王芳 Wang Fang"))
        self.assertEqual(self.names("NAMES-1", case["token"]), {"reviewer": "owner", "applicant": "王芳 Wang Fang"})
        with self.server.db() as db:
            said = [r[0] for r in db.execute("SELECT detail FROM audit_log WHERE action = 'participant.joined' "
                                               "AND actor LIKE 'applicant:%'")]
        self.assertTrue(said and all("whoever I say" in d for d in said), said)

    def test_without_a_name_on_the_case_the_connection_names_itself(self):
        case = self.server.add_case("NAMES-2")
        self.assertEqual(self.names("NAMES-2", case["token"]), {"reviewer": "owner", "applicant": "whoever I say"})


if __name__ == "__main__":
    unittest.main()
