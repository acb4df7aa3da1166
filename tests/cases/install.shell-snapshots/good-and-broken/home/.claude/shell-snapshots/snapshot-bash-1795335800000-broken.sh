# Snapshot file
export PATH=/usr/local/bin:/usr/bin:/bin
prompt_git () {
  if [ -d .git ]; then
    echo git
}
