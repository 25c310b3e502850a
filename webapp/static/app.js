// Autocomplete for the artist and song fields: /api/search as you type, the
// most popular matches first; picking one fills both fields and searches.
(function () {
  const form = document.getElementById("search");
  const artist = document.getElementById("artist");
  const track = document.getElementById("track");
  const list = document.getElementById("suggestions");
  const surprise = document.getElementById("surprise");
  let active = -1;
  let pending = null;

  function hide() { list.hidden = true; list.innerHTML = ""; active = -1; }

  function choose(item) {
    artist.value = item.dataset.artist;
    track.value = item.dataset.track;
    hide();
    form.submit();
  }

  function show(results) {
    list.innerHTML = "";
    active = -1;
    for (const song of results) {
      const item = document.createElement("li");
      item.setAttribute("role", "option");
      item.dataset.artist = song.artist;
      item.dataset.track = song.track;
      const title = document.createElement("span");
      title.className = "track";
      title.textContent = song.track;
      const by = document.createElement("span");
      by.className = "by";
      by.textContent = " by " + song.artist;
      item.append(title, by);
      item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(item); });
      list.append(item);
    }
    list.hidden = results.length === 0;
  }

  async function suggest() {
    const query = (artist.value + " " + track.value).trim();
    if (query.length < 2) { hide(); return; }
    if (pending) pending.abort();
    pending = new AbortController();
    try {
      const response = await fetch("/api/search?q=" + encodeURIComponent(query), { signal: pending.signal });
      if (response.ok) show((await response.json()).results);
    } catch (error) {
      if (error.name !== "AbortError") hide();
    }
  }

  function move(step) {
    const items = list.querySelectorAll("li");
    if (!items.length) return;
    if (active >= 0) items[active].classList.remove("active");
    active = (active + step + items.length) % items.length;
    items[active].classList.add("active");
  }

  for (const field of [artist, track]) {
    field.addEventListener("input", suggest);
    field.addEventListener("blur", () => setTimeout(hide, 100));
    field.addEventListener("keydown", (event) => {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Escape") { hide(); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(list.querySelectorAll("li")[active]); }
    });
  }

  // Options apply at once to the song on show; "Surprise me" keeps them.
  for (const option of [document.getElementById("same_artist"), document.getElementById("n")]) {
    option.addEventListener("change", () => { if (artist.value && track.value) form.submit(); });
  }
  surprise.addEventListener("click", (event) => {
    event.preventDefault();
    const params = new URLSearchParams({ n: document.getElementById("n").value });
    if (document.getElementById("same_artist").checked) params.set("same_artist", "true");
    window.location = surprise.getAttribute("href") + "?" + params;
  });
})();
