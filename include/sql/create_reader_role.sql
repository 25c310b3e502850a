-- The analysts' read-only role: SELECT on music, nothing else (grants renewed by every publish).
do $$
begin
    if not exists (select from pg_roles where rolname = 'music_reader') then
        create role music_reader login;
    end if;
end $$;
