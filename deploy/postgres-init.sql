-- The second database of deploy/docker-compose.yml: Rasa's tracker store.
CREATE DATABASE rasa OWNER helpdesk;
