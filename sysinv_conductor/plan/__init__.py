"""Plans: what an application operation would change, computed without changing anything."""
