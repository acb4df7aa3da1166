echo logged
