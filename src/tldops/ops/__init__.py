"""Operations: the supervisor (`tldops run`), the separate processes (web, mail, worker), periodic jobs."""
