"""Ready-made intros and rule sets drawn from the seed articles, to start a group from."""

from django.utils.translation import gettext_lazy as _

TEMPLATES = {
    "health_food": {
        "label": _("Health-food group"),
        "intro_who": "本群为健康优选保健食品交流群，欢迎大家分享产品服用问题、日常营养保健知识、产品购买和商家活动问题。",
        "intro_why": "我们会定期举办各类活动，邀请专业营养师开设营养课程，并定期推出特价产品。我们不一定会刷屏，但一定会让你在这里开心。",
        "intro_runs": "本群由分群主和管理员共同管理，只谈健康，欢迎多多分享。",
        "welcome_message": "欢迎加入！回复“1”获取群规，回复“2”认识群友。进群请先修改群名片哦～",
        "rules": [
            {"kind": "name_card", "params": {"format": "{city}-{name}-{product}"}},
            {
                "kind": "custom",
                "params": {
                    "text": "鼓励晒产品图（收货、服用、好评），晒图有奖；邀请身边有需要的朋友进群，邀请有奖。"
                },
            },
            {
                "kind": "no_ads",
                "params": {"allowed_domains": [], "keywords": ["加微信", "代购", "兼职"]},
            },
            {
                "kind": "custom",
                "params": {"text": "如需投票、砍价等活动，请先私信群主，同意后再发到群内。"},
            },
            {
                "kind": "custom",
                "params": {"text": "群内以任何名义要求添加好友的，请谨慎并向群主举报。"},
            },
            {
                "kind": "custom",
                "params": {
                    "text": "本品牌有多个交流群，最多可加两个群（综合群1个，分类群1个），请勿重复进群。"
                },
            },
            {"kind": "no_flood", "params": {"max_consecutive": 5, "window_seconds": 60}},
            {"kind": "no_personal_attacks", "params": {}},
        ],
        "warnings_before_removal": 1,
        "announce_removal": True,
        # the welcome promises these answers: {rules} is the group's rules as posted
        "auto_replies": [
            {"keyword": "1", "reply": "{rules}"},
            {
                "keyword": "2",
                "reply": "欢迎发一段自我介绍：城市、称呼、在用的产品，群友们会来和你打招呼～",
            },
        ],
    },
    "mother_baby": {
        "label": _("Mother-and-baby group"),
        "intro_who": "这里是贝贝母婴宝妈育儿交流群，专注0-3岁宝宝的安全产品与科学育儿。",
        "intro_why": "每周有育儿干货、宝妈故事、福利预告和互动话题，还有新人专属10元无门槛券。",
        "intro_runs": "本群由团长和副团长管理，有问题随时@我们。",
        "welcome_message": "欢迎加入！可以和大家说说宝宝多大了吗？回复“1”查看群规。",
        "rules": [
            {"kind": "name_card", "params": {"format": "{city}-{name}-{baby_age}"}},
            {"kind": "no_flood", "params": {"max_consecutive": 5, "window_seconds": 60}},
            {"kind": "no_ads", "params": {"allowed_domains": [], "keywords": ["代购", "微商"]}},
            {"kind": "no_personal_attacks", "params": {}},
            {
                "kind": "custom",
                "params": {"text": "分享育儿经验请真实友善，不传播未经证实的医疗建议。"},
            },
        ],
        "warnings_before_removal": 1,
        "announce_removal": True,
        "auto_replies": [{"keyword": "1", "reply": "{rules}"}],
    },
}
