"""A small bilingual (Indonesian <-> English) lexicon for the desk's domain.

Each line maps surface forms (lower case, inflected forms listed) to one language-neutral
concept. Multi-word forms are matched longest first. Countries, capitals and institutions are
here so that ``Korea Utara`` / ``Korut`` / ``North Korea`` / ``North Korean`` are one feature.
Weekday and month names are resolved to dates in features.py, not here.
"""

from __future__ import annotations

from functools import cache

_TABLE = """
north_korea: korea utara | korut | north korea | north korean | north koreans | dprk | pyongyang's
south_korea: korea selatan | korsel | south korea | south korean | south koreans
korean_peninsula: semenanjung korea | korean peninsula
russia: rusia | russia | russian | russians | federasi rusia | russian federation
china: china | tiongkok | cina | chinese | rrt
usa: amerika serikat | as | amerika | us | u.s. | united states | american | americans
japan: jepang | japan | japanese
ukraine: ukraina | ukraine | ukrainian | ukrainians
belarus: belarus | belarusian
iran: iran | iranian
indonesia: indonesia | indonesian | ri
moscow: moskow | moscow
beijing: beijing
washington: washington
tokyo: tokyo
seoul: seoul
kyiv: kyiv | kiev
white_house: gedung putih | white house
kremlin: kremlin
east_sea: laut timur | east sea | sea of japan | laut jepang
yellow_sea: laut kuning | yellow sea
black_sea: laut hitam | black sea
un: pbb | perserikatan bangsa-bangsa | united nations | dewan keamanan pbb | un security council
security_council: dewan keamanan | security council
nato: nato | pakta pertahanan atlantik utara
jcs: kepala staf gabungan | joint chiefs of staff | kasgab
defence_ministry: kementerian pertahanan | kemhan | defence ministry | defense ministry
    | ministry of defence | ministry of defense | pentagon
foreign_ministry: kementerian luar negeri | kemlu | foreign ministry | ministry of foreign affairs
treasury: departemen keuangan | kementerian keuangan | treasury | treasury department
president: presiden | president
prime_minister: perdana menteri | pm | prime minister | premier
foreign_minister: menteri luar negeri | menlu | foreign minister | top diplomat
defence_minister: menteri pertahanan | menhan | defence minister | defense minister
leader: pemimpin | leader | leaders
sister: adik | adik perempuan | sister
daughter: putri | putrinya | daughter
spokesman: juru bicara | jubir | spokesman | spokeswoman | spokesperson
security_adviser: penasihat keamanan nasional | national security adviser
    | national security advisor
missile: rudal | peluru kendali | missile | missiles
ballistic: balistik | ballistic
icbm: rudal balistik antarbenua | rudal antarbenua | antarbenua | icbm
    | intercontinental ballistic missile | intercontinental
cruise_missile: rudal jelajah | cruise missile | cruise missiles
hypersonic: hipersonik | hypersonic
short_range: jarak pendek | short-range | short range
long_range: jarak jauh | long-range | long range
warhead: hulu ledak | warhead | warheads
nuclear: nuklir | nuclear
satellite: satelit | satellite | satellites
spy_satellite: satelit mata-mata | satelit pengintai | spy satellite | reconnaissance satellite
    | satelit pengintaian
rocket: roket | rocket | rockets
launch: luncurkan | meluncurkan | diluncurkan | peluncuran | meluncur | luncur | menembakkan
    | ditembakkan | tembakkan | launch | launches | launched | launching | fire | fires | fired
    | firing | lift-off | lifted off
launch_site: landasan peluncuran | launch pad | launch site | rocket launch site
cosmodrome: kosmodrom | cosmodrome | bandar antariksa | space base | spaceport
orbit: orbit | mengorbit
space: luar angkasa | antariksa | space
test: uji coba | ujicoba | uji | diuji | menguji | test | tests | tested | testing | test-fired
    | test-launched
fail: gagal | kegagalan | failed | failure | fails | ends in failure
drill: latihan | latihan militer | latihan gabungan | drill | drills | exercise | exercises
    | war games
joint: gabungan | bersama | joint
aircraft_carrier: kapal induk | aircraft carrier
bomber: pesawat pengebom | pengebom | bomber | bombers
fighter_jet: pesawat tempur | jet tempur | fighter jet | fighter jets | fighter
destroyer: kapal perusak | destroyer
frigate: fregat | frigate
warship: kapal perang | warship
submarine: kapal selam | submarine | submarines
navy: angkatan laut | navy | naval | armada | fleet
air_force: angkatan udara | air force
army: angkatan darat | tentara | pasukan | army | troops | forces | soldiers
drone: drone | drones | pesawat nirawak | uav | shahed
air_defence: pertahanan udara | air defence | air defense | air defences
shot_down: ditembak jatuh | menembak jatuh | shot down | downed | shoot down
munitions_factory: pabrik amunisi | pabrik senjata | munitions factory | munitions plant
    | arms factory | ammunition factory
factory: pabrik | factory | plant | galangan kapal | shipyard
ammunition: amunisi | ammunition | munitions | ammo
shell: peluru | peluru artileri | selongsong | shell | shells | artillery shell | artillery shells
    | rounds
artillery: artileri | artillery
weapons: senjata | persenjataan | weapons | weapon | arms
arms_deal: kesepakatan senjata | transfer senjata | pasokan senjata | arms deal | arms deals
    | arms transfer | arms transfers | arms trade
sanctions: sanksi | sanctions | sanction | sanctioned
meeting: pertemuan | bertemu | menemui | temui | pertemuan puncak | ktt | meet | meets | met
    | meeting | summit | talks | pembicaraan | perundingan
visit: kunjungan | mengunjungi | kunjungi | berkunjung | visit | visits | visited | visiting
    | tour | toured | tours
receive: menerima | diterima | terima | menyambut | disambut | received | receives | receive
    | welcomed | welcomes | hosts | hosted
inspect: meninjau | tinjau | memeriksa | mengawasi | awasi | inspect | inspected | inspects
    | oversaw | oversees | oversee
statement: pernyataan | statement
warn: memperingatkan | peringatkan | peringatan | warn | warns | warned | warning
condemn: mengecam | kecam | condemn | condemns | condemned
agreement: kesepakatan | perjanjian | nota kesepahaman | agreement | agreements | deal | deals
    | memorandum | treaty
sign: menandatangani | teken | meneken | ditandatangani | sign | signs | signed
cooperation: kerja sama | kerjasama | cooperation
trade: perdagangan | trade
gas: gas
pipeline: pipa | pipa gas | pipeline
energy: energi | energy
electricity: listrik | aliran listrik | electricity | power
grid: jaringan listrik | grid | power grid
wheat: gandum | wheat
grain: biji-bijian | gandum | grain
port: pelabuhan | port
war: perang | war
invasion: invasi | invasion
attack: serangan | menyerang | serang | attack | attacks | attacked | strike | strikes | struck
    | hit
front: garis depan | front | front line
intelligence: intelijen | intelligence
parliament: parlemen | majelis rakyat tertinggi | parliament | supreme people's assembly
constitution: konstitusi | undang-undang dasar | constitution
parade: parade | parade militer | military parade
anniversary: peringatan | hari jadi | ulang tahun | anniversary
delegation: delegasi | delegation
forum: forum | forum ekonomi timur | eastern economic forum
economy: ekonomi | economy | economic
internet: internet
ground_station: stasiun bumi | ground station
telecom: telekomunikasi | telecommunications | communications
train: kereta | kereta api | kereta lapis baja | train | armoured train | armored train
letter: surat | letter
invitation: undangan | mengundang | undang | invitation | invited | invite
election: pemilu | pemilihan | election
protest: protes | demonstrasi | demo | protest | protests
exclusive_economic_zone: zona ekonomi eksklusif | zee | exclusive economic zone | eez
coast: pantai | pesisir | coast
west: barat | west | western
east: timur | east | eastern
north: utara | north | northern
south: selatan | south | southern
household: rumah tangga | rumah | household | households | homes
injured: terluka | luka-luka | injured | wounded
killed: tewas | meninggal | killed | dead
debris: puing | serpihan | debris | fragments
"""


@cache
def lexicon() -> dict[tuple[str, ...], str]:
    """Surface form (tuple of lower-case tokens) -> concept."""
    table: dict[tuple[str, ...], str] = {}
    concept = ""
    for line in _TABLE.strip().splitlines():
        if line.startswith(" "):  # continuation: more forms of the concept above
            forms = line
        else:
            concept, forms = line.split(":", 1)
        for form in forms.split("|"):
            key = tuple(form.strip().split())
            if key:
                table.setdefault(key, concept.strip())
    return table


@cache
def max_phrase() -> int:
    return max(len(k) for k in lexicon())


@cache
def first_words() -> dict[str, int]:
    """First word of each lexicon form -> the longest form's length (a word not here starts
    no form)."""
    out: dict[str, int] = {}
    for key in lexicon():
        out[key[0]] = max(out.get(key[0], 0), len(key))
    return out


def match_at(words: list[str], i: int) -> tuple[str, int] | None:
    """The longest lexicon form starting at ``words[i]``: (concept, length) or None."""
    longest = first_words().get(words[i])
    if longest is None:
        return None
    table = lexicon()
    for n in range(min(longest, len(words) - i), 0, -1):
        concept = table.get(tuple(words[i : i + n]))
        if concept is not None:
            return concept, n
    return None
